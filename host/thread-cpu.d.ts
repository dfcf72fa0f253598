// Types of thread-cpu.js (plain JavaScript: the raw log's I/O worker runs it without a TypeScript loader).
/** CPU seconds (user + system) of the calling thread; null off Linux. */
export function threadCpuS(): number | null;
/** CPU seconds (user + system) of every live thread of this process by thread id (the main thread's is process.pid); empty off Linux. */
export function processThreadsCpuS(): Map<number, number>;
