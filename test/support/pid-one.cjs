// Preloaded (--require) into a worker process to make it believe it is PID 1, as every node
// process is in its own container: tests of workers that share a disk across containers.
Object.defineProperty(process, 'pid', { value: 1, configurable: true });
