import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

// Compiled tests live in dist/test/helpers; the repository root is three levels up.
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const fixturesDir = join(repoRoot, 'test', 'fixtures');
export const examplesDir = join(repoRoot, 'examples');
export const binPath = join(repoRoot, 'bin', 'wasm-oci.js');
