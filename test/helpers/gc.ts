import * as v8 from 'node:v8';
import * as vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gcFn = vm.runInNewContext('gc') as () => void;

/** Runs full garbage collections until `done()` holds (native finalizers run on a later tick). */
export async function collectUntil(done: () => boolean, rounds = 50): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    gcFn();
    await new Promise((resolve) => setImmediate(resolve));
    if (done()) return true;
  }
  return done();
}

/** Collects garbage left by earlier tests in this worker, so a memory baseline taken next is stable. */
export async function settle(): Promise<void> {
  await collectUntil(() => false, 4);
}
