// `npm run bench [-- --quick] [-- --backend NAME]`: every benchmark, each given the arguments.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
let failed = false;
for (const bench of ['bench/minibatch-heatmap.bench.ts', 'bench/models.bench.ts', 'bench/resnet20-heatmap.bench.ts']) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', bench, ...args], { stdio: 'inherit' });
  failed ||= result.status !== 0;
}
process.exit(failed ? 1 : 0);
