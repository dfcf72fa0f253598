// The part of the `debug` package (no bundled types) fiberrig uses.
declare module 'debug' {
  export interface Debugger {
    (formatter: string, ...args: unknown[]): void;
    /** True when DEBUG names this namespace: callers skip building costly arguments otherwise. */
    enabled: boolean;
    readonly namespace: string;
    /** Where output goes (default: stderr). */
    log: (...args: unknown[]) => void;
  }
  interface Debug {
    (namespace: string): Debugger;
    enable(namespaces: string): void;
    disable(): string;
    enabled(namespace: string): boolean;
  }
  const debug: Debug;
  export default debug;
}
