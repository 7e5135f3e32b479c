import { classify, regionFromUrl } from '../../../lambda/src/client.js';

test('403s are told apart by x-amzn-ErrorType and message, not by status', () => {
  expect(classify(403, 'AccessDeniedException', 'User: arn:aws:iam::1:role/r is not authorized to perform: execute-api:Invoke on resource: x with an explicit deny')).toBe('POLICY');
  expect(classify(403, 'InvalidSignatureException', 'Signature expired: 20260101T000000Z is now earlier than ...')).toBe('SIGV4');
  expect(classify(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token')).toBe('SIGV4');
  expect(classify(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.')).toBe('SIGV4');
  expect(classify(403, 'ExpiredTokenException:http://internal', 'The security token included in the request is expired')).toBe('SIGV4');
  expect(classify(403, undefined, 'The request signature we calculated does not match the signature you provided.')).toBe('SIGV4');
  expect(classify(429, 'TooManyRequestsException', 'Too Many Requests')).toBe('THROTTLED');
  expect(classify(503, undefined, 'Service Unavailable')).toBe('SERVER');
});

test('region from the private DNS and the {api}-{vpce} host forms', () => {
  expect(regionFromUrl(new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/prod'))).toBe('eu-west-1');
  expect(regionFromUrl(new URL('https://abc123-vpce-0123456789abcdef0.execute-api.us-east-1.amazonaws.com/prod'))).toBe('us-east-1');
});
