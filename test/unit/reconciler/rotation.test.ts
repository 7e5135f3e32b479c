import { rotate } from '../../../src/reconciler/rotation.js';

const t0 = new Date('2026-01-01T00:00:00.000Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

describe('rotate', () => {
  it('admits the first endpoint at once, even before it is available', () => {
    expect(rotate(undefined, { id: 'vpce-1', state: 'pending' }, t0, 300)).toEqual({ allowed: [{ id: 'vpce-1' }] });
  });

  it('keeps the previous set when no endpoint is observed (never empties)', () => {
    expect(rotate([{ id: 'vpce-1' }], {}, t0, 300).allowed).toEqual([{ id: 'vpce-1' }]);
  });

  it('adds a new ID at once and keeps the old without a clock while the new one is pending', () => {
    const r = rotate([{ id: 'vpce-1' }], { id: 'vpce-2', state: 'pending' }, t0, 300);
    expect(r.allowed).toEqual([{ id: 'vpce-2' }, { id: 'vpce-1' }]);
    expect(r.wakeAt).toBeUndefined();
  });

  it('starts the grace once the new endpoint is available, then drops the old after it', () => {
    const r1 = rotate([{ id: 'vpce-2' }, { id: 'vpce-1' }], { id: 'vpce-2', state: 'available' }, at(10), 300);
    expect(r1.allowed).toEqual([{ id: 'vpce-2' }, { id: 'vpce-1', until: at(310).toISOString() }]);
    expect(r1.wakeAt).toEqual(at(310));
    // before the grace ends: unchanged, same until
    const r2 = rotate(r1.allowed, { id: 'vpce-2', state: 'available' }, at(200), 300);
    expect(r2.allowed).toEqual(r1.allowed);
    expect(r2.wakeAt).toEqual(at(310));
    // after: only the new one
    const r3 = rotate(r2.allowed, { id: 'vpce-2', state: 'available' }, at(310), 300);
    expect(r3).toEqual({ allowed: [{ id: 'vpce-2' }] });
  });

  it('never drops an old ID while the new endpoint is not available, even past an old until', () => {
    const r = rotate([{ id: 'vpce-1', until: at(5).toISOString() }], { id: 'vpce-2', state: 'pending' }, at(100), 300);
    expect(r.allowed.map((e) => e.id)).toEqual(['vpce-2', 'vpce-1']);
  });

  it('handles a rotation back to an ID still in grace', () => {
    const r = rotate([{ id: 'vpce-2' }, { id: 'vpce-1', until: at(300).toISOString() }], { id: 'vpce-1', state: 'available' }, at(10), 300);
    expect(r.allowed).toEqual([{ id: 'vpce-1' }, { id: 'vpce-2', until: at(310).toISOString() }]);
  });

  it('treats state case-insensitively (AWS reports "available")', () => {
    const r = rotate([{ id: 'a' }], { id: 'b', state: 'Available' }, t0, 0);
    expect(r.allowed).toEqual([{ id: 'b' }]);
  });
});
