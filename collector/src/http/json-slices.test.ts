// Slice-wise parsing gives exactly what JSON.parse gives, and refuses (null) whatever JSON.parse
// refuses, for bodies an attacker shapes to confuse a scanner: strings full of brackets, commas and
// escaped quotes, nesting, trailing commas, empty elements, text after the array.
import { ticker } from '../../test/helpers/loop-turns';
import { seeded } from '../../test/helpers/seeded';
import { parseArraySliced } from './json-slices';

const wholeOrNull = (t: string): unknown => {
  try {
    const v: unknown = JSON.parse(t);
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
};

const tricky = [
  '[]', ' [ ] ', '[1]', '[1,2,3]', '[1,2,]', '[,]', '[1,,2]', '[1 2]', '[1,2] x', '[1,2]]', '[[1,2],[3,4]]', '[{"a":[1,2]},{"b":"]"}]',
  '["a,b", "c\\"d,]", "\\\\", "\\\\\\"]"]', '[{"x":"}"},{"y":"{"}]', '[{"a":[1}],2]', '[{"a":1]', '[1,2', '["unterminated]', '[null,true,false,-0.5e3]',
  '[{"__proto__":{"polluted":1}}]', '[\n1\n,\n2\n]', '{"a":1}', '"x"', '[1,2,3,4,5,6,7]', '[1,2,3,4,5,6,]', '[1,2,3,,4,5,6]', '["\u2028", "é", "😀"]',
];

test.each(tricky)('%s parses as JSON.parse does, step 2', async (t) => {
  expect(await parseArraySliced(t, 2)).toEqual(wholeOrNull(t));
});

test('a 1,000-event body parses in slices to the same events, with turns of the event loop between', async () => {
  const events = Array.from({ length: 1000 }, (_, i) => ({
    type: 'login', outcome: i % 3 ? 'failure' : 'success', user: `user, "${i}" [x] {y}`, ip: `198.51.100.${i % 250}`,
    attributes: { nested: { list: [i, `a]b,c`, { d: '\\' }] } },
  }));
  const text = JSON.stringify(events);
  const t = ticker();
  const parsed = await parseArraySliced(text, 200);
  const turns = t.stop();
  expect(parsed).toEqual(events);
  expect(turns).toBeGreaterThanOrEqual(4);
});

test('random bodies with damage in random places: the same answer as JSON.parse', async () => {
  const rand = seeded(7).float;
  const pieces = ['{', '}', '[', ']', ',', '"', '\\', ':', '1', ' ', 'a'];
  for (let k = 0; k < 500; k++) {
    const base = JSON.stringify(Array.from({ length: 1 + Math.floor(rand() * 8) }, (_, i) => ({ a: [i, 'x,]}"'], b: { c: '[' } })));
    const at = Math.floor(rand() * base.length);
    const damaged = rand() < 0.5 ? base.slice(0, at) + pieces[Math.floor(rand() * pieces.length)] + base.slice(at) : base.slice(0, at) + base.slice(at + 1);
    expect({ damaged, v: await parseArraySliced(damaged, 2) }).toEqual({ damaged, v: wholeOrNull(damaged) });
  }
});
