// A small structural check of a JSON document: required keys with their types, `?` for optional
// ones, nested shapes for objects, `[shape]` for arrays whose every element has that shape, and
// `recurse` to check a tree whose children have the shape of their parent (oras's discover).
// Keys not in the shape are allowed: our extras sit beside oras's keys.

export type ShapeType =
  | 'string' | 'number' | 'boolean' | 'object' | 'string[]' | 'object[]' | 'null'
  | `${'string' | 'number' | 'boolean' | 'object' | 'string[]' | 'object[]'}?`;
export type Shape = { [key: string]: Shape | ShapeType | [Shape] | 'recurse' | 'object|null' };

function typeOk(v: unknown, type: string): boolean {
  switch (type) {
    case 'string[]': return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'object[]': return Array.isArray(v) && v.every((x) => x !== null && typeof x === 'object');
    case 'object': return v !== null && typeof v === 'object' && !Array.isArray(v);
    case 'null': return v === null;
    case 'object|null': return v === null || (typeof v === 'object' && !Array.isArray(v));
    default: return typeof v === type;
  }
}

/** The problems found (an empty list when `value` has the shape). */
export function checkShape(value: unknown, shape: Shape, path = '$', root: Shape = shape): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path} is not an object`];
  const doc = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const [key, want] of Object.entries(shape)) {
    const v = doc[key];
    const at = `${path}.${key}`;
    if (Array.isArray(want)) {
      if (!Array.isArray(v)) problems.push(`${at} is not an array: ${JSON.stringify(v)}`);
      else v.forEach((x, i) => problems.push(...checkShape(x, want[0], `${at}[${i}]`, root)));
      continue;
    }
    if (want === 'recurse') {
      if (!Array.isArray(v)) problems.push(`${at} is not an array: ${JSON.stringify(v)}`);
      else v.forEach((x, i) => problems.push(...checkShape(x, root, `${at}[${i}]`, root)));
      continue;
    }
    if (typeof want === 'object') {
      problems.push(...checkShape(v, want, at, root));
      continue;
    }
    const optional = want.endsWith('?');
    const type = want.replace('?', '');
    if (v === undefined) {
      if (!optional) problems.push(`${at} is missing`);
      continue;
    }
    if (!typeOk(v, type)) problems.push(`${at} is not ${type}: ${JSON.stringify(v)}`);
  }
  return problems;
}
