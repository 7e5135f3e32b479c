// The one table of prices xapi's cost estimate uses (docs/audit.md shows it; a unit test keeps the
// two equal). AWS's public on-demand prices for us-east-1 in USD, as published when this was
// written; other regions and later price changes differ, so the figures are an estimate to check
// against the AWS Pricing Calculator, never a bill. Pass other rates to costEstimate() to override.

export interface Rates {
  /** Hours in the month the estimate is for (AWS's pricing pages use 730). */
  hoursPerMonth: number;
  /** PrivateLink interface endpoint, per endpoint per Availability Zone per hour. */
  endpointPerAzHourUsd: number;
  /** PrivateLink data processed through the endpoint, per GB (first PB tier). */
  endpointDataPerGbUsd: number;
  /** CloudWatch Logs ingestion of vended logs such as VPC Flow Logs (first 10 TB tier), per GB. */
  flowLogIngestPerGbUsd: number;
  /** CloudWatch Logs standard ingestion (API Gateway access logs), per GB. */
  logIngestPerGbUsd: number;
  /** CloudWatch Logs storage, per GB-month. */
  logStoragePerGbMonthUsd: number;
  /** CloudTrail Lake ingestion of AWS management events (one-year extendable retention pricing), per GB. */
  cloudTrailLakeIngestPerGbUsd: number;
  /** For comparison: a NAT gateway per hour, and per GB it processes. */
  natGatewayPerHourUsd: number;
  natGatewayDataPerGbUsd: number;
}

export const RATES: Readonly<Rates> = {
  hoursPerMonth: 730,
  endpointPerAzHourUsd: 0.01,
  endpointDataPerGbUsd: 0.01,
  flowLogIngestPerGbUsd: 0.5,
  logIngestPerGbUsd: 0.5,
  logStoragePerGbMonthUsd: 0.03,
  cloudTrailLakeIngestPerGbUsd: 2.5,
  natGatewayPerHourUsd: 0.045,
  natGatewayDataPerGbUsd: 0.045,
};

/** Where the rates come from, shown with every estimate. */
export const RATES_SOURCE = 'AWS on-demand prices, us-east-1, USD (docs/audit.md#cost)';
