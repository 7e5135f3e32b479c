import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { observedIds } from '../../../src/reconciler/observed.js';
import { objectNames } from '../../../src/charts/names.js';
import type { CrossAccountApi } from '../../../src/api/types.js';

const cr = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;
const names = objectNames(cr);

describe('observedIds', () => {
  it('reads every ID from the ACK statuses it belongs to', () => {
    const consumer = [
      { kind: 'SecurityGroup', metadata: { name: names.callerSecurityGroup }, status: { id: 'sg-caller' } },
      { kind: 'SecurityGroup', metadata: { name: names.endpointSecurityGroup }, status: { id: 'sg-endpoint' } },
      { kind: 'VPCEndpoint', metadata: { name: names.vpcEndpoint }, status: { vpcEndpointID: 'vpce-1', state: 'available', dnsEntries: [{ dnsName: 'a.example' }, { dnsName: 'b.example' }], networkInterfaceIDs: ['eni-2', 'eni-1', ''] } },
      { kind: 'Role', metadata: { name: names.role }, status: { ackResourceMetadata: { arn: 'arn:aws:iam::111111111111:role/x' } } },
    ];
    const provider = [{ kind: 'RestAPI', metadata: { name: names.restApi }, status: { id: 'abc123', rootResourceID: 'root1' } }];
    expect(observedIds(cr, consumer, provider)).toEqual({
      ids: {
        callerSecurityGroupId: 'sg-caller',
        endpointSecurityGroupId: 'sg-endpoint',
        restApiId: 'abc123',
        rootResourceId: 'root1',
        roleArn: 'arn:aws:iam::111111111111:role/x',
        endpointNetworkInterfaceIds: ['eni-1', 'eni-2'],
        createdMethods: [],
        createdIntegrations: [],
      },
      endpoint: { id: 'vpce-1', state: 'available', dnsNames: ['a.example', 'b.example'] },
    });
  });

  it('leaves out what ACK has not reported and ignores objects of other names', () => {
    const consumer = [
      { kind: 'SecurityGroup', metadata: { name: 'someone-else-sg' }, status: { id: 'sg-x' } },
      { kind: 'SecurityGroup', metadata: { name: names.callerSecurityGroup }, status: { id: '' } },
      { kind: 'VPCEndpoint', metadata: { name: names.vpcEndpoint } },
    ];
    expect(observedIds(cr, consumer, [])).toEqual({ ids: { createdMethods: [], createdIntegrations: [] }, endpoint: {} });
  });

  it('counts a Method or Integration as created once ACK reports its owner account or Ready, by route', () => {
    const route = (r: string) => ({ annotations: { 'xapi.dev/route': r } });
    const provider = [
      { kind: 'Method', metadata: { name: 'm1', ...route('GET /items') }, status: { ackResourceMetadata: { ownerAccountID: '222222222222', region: 'us-east-1' } } },
      { kind: 'Method', metadata: { name: 'm2', ...route('POST /items') }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
      { kind: 'Method', metadata: { name: 'm3', ...route('GET /items/{id}') }, status: { conditions: [{ type: 'Ready', status: 'False' }] } },
      { kind: 'Integration', metadata: { name: 'i1', ...route('GET /items') } },
      { kind: 'Integration', metadata: { name: 'i2', ...route('POST /items') }, status: { ackResourceMetadata: { ownerAccountID: '222222222222' }, conditions: [{ type: 'ACK.ResourceSynced', status: 'Unknown' }] } },
    ];
    const { ids } = observedIds(cr, [], provider);
    expect(ids.createdMethods).toEqual(['GET /items', 'POST /items']);
    expect(ids.createdIntegrations).toEqual(['POST /items']);
  });

  it('does not count a create AWS refused: ACK writes the owner account on error too', () => {
    const route = (r: string) => ({ annotations: { 'xapi.dev/route': r } });
    const owner = { ackResourceMetadata: { ownerAccountID: '222222222222', region: 'us-east-1' } };
    const provider = [
      { kind: 'Method', metadata: { name: 'm1', ...route('GET /items') }, status: { ...owner, conditions: [{ type: 'ACK.Recoverable', status: 'True', message: 'NotFoundException: Invalid Resource identifier specified' }] } },
      { kind: 'Method', metadata: { name: 'm2', ...route('POST /items') }, status: { ...owner, conditions: [{ type: 'ACK.Terminal', status: 'True' }] } },
      { kind: 'Method', metadata: { name: 'm3', ...route('GET /items/{id}') }, status: { ...owner, conditions: [{ type: 'ACK.Recoverable', status: 'False' }] } },
      { kind: 'Integration', metadata: { name: 'i1', ...route('GET /items') }, status: { ...owner, conditions: [{ type: 'ACK.Recoverable', status: 'True' }] } },
    ];
    const { ids } = observedIds(cr, [], provider);
    expect(ids.createdMethods).toEqual(['GET /items/{id}']);
    expect(ids.createdIntegrations).toEqual([]);
  });
});
