// `xapi status` with an existing endpoint: the report names the layers xapi does not manage.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { CrossAccountApi } from '../../../src/api/types.js';
import { crReport, formatReports } from '../../../src/cli/commands/status.js';

const example = parse(readFileSync(new URL('../../../examples/orders.yaml', import.meta.url), 'utf8')) as CrossAccountApi;

test('an existing endpoint: layers 1 and 2 listed as not managed by xapi; a managed one lists none', () => {
  const cr = structuredClone(example);
  cr.spec.consumer.endpoint = { id: 'vpce-0feedfacefeedface' };
  const report = crReport(cr, [], []);
  expect(report.unmanaged).toEqual([expect.stringMatching(/^layer 1: the security groups of vpce-0feedfacefeedface are not xapi's/), expect.stringMatching(/^layer 2: the policy of vpce-0feedfacefeedface is not xapi's/)]);
  expect(formatReports([report])).toMatch(/not managed by xapi \(see the layer conditions for what ACK reports\):\n  - layer 1: /);
  expect(crReport(example, [], []).unmanaged).toEqual([]);
  expect(formatReports([crReport(example, [], [])])).not.toMatch(/not managed by xapi/);
});
