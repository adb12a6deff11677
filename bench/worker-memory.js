/**
 * Preloaded into the `load` bench's worker process (`node --require`, which worker threads inherit), so that
 * the bench can see where the worker's memory is: RSS alone cannot tell the main thread's heap (activities,
 * the bus, Longhaul's own state) from the workflow thread's (the sticky cache's sandboxed workflows) from what
 * is outside both (Temporal's Rust core, buffers). Every thread writes its V8 heap figures to
 * `$LOAD_MEMORY_DIR/thread-<id>.json` each second; when the bench creates `$LOAD_MEMORY_DIR/snapshot-<label>`,
 * every thread collects its garbage, writes its figures again (`<label>-thread-<id>.json`) and, if the file
 * says `heap`, a heap snapshot beside them. Plain JavaScript: it loads before tsx.
 */
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const { setInterval } = require('node:timers');
const { threadId } = require('node:worker_threads');

const dir = process.env.LOAD_MEMORY_DIR;
if (dir) {
  // Exposes gc() in every thread without the flag on the command line.
  v8.setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  const done = new Set();
  const figures = () => {
    const h = v8.getHeapStatistics();
    const m = process.memoryUsage();
    return {
      threadId,
      at: Date.now(),
      heapUsedMb: h.used_heap_size / 2 ** 20,
      heapTotalMb: h.total_heap_size / 2 ** 20,
      externalMb: h.external_memory / 2 ** 20,
      nativeContexts: h.number_of_native_contexts,
      detachedContexts: h.number_of_detached_contexts,
      // Process-wide: the same in every thread.
      rssMb: m.rss / 2 ** 20,
      arrayBuffersMb: m.arrayBuffers / 2 ** 20,
    };
  };
  const timer = setInterval(() => {
    try {
      fs.writeFileSync(path.join(dir, `thread-${threadId}.json`), JSON.stringify(figures()));
      for (const f of fs.readdirSync(dir)) {
        const label = /^snapshot-(.+)$/.exec(f)?.[1];
        if (!label || done.has(label)) continue;
        done.add(label);
        gc();
        fs.writeFileSync(path.join(dir, `${label}-thread-${threadId}.json`), JSON.stringify(figures()));
        if (fs.readFileSync(path.join(dir, f), 'utf8').trim() === 'heap') v8.writeHeapSnapshot(path.join(dir, `${label}-thread-${threadId}.heapsnapshot`));
      }
    } catch {
      // the directory went away with the bench
    }
  }, 1000);
  timer.unref();
}
