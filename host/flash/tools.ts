// Running the external flashing tools (dfu-util, openocd): argv in, exit code
// and combined output back; a missing tool is a typed error with the Debian
// package to install.
import { spawn } from 'node:child_process';
import { FlashError } from './errors.ts';

export interface ToolResult {
  code: number;
  output: string;
}

const PACKAGES: Record<string, string> = { 'dfu-util': 'dfu-util', openocd: 'openocd' };

export function runTool(tool: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ToolResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(tool, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => { output += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { output += b.toString(); });
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (error.code === 'ENOENT' || error.code === 'EACCES') {
        const pkg = PACKAGES[tool] ?? tool;
        reject(new FlashError('E_FLASH_TOOL_MISSING', `${tool} is not installed (not found on PATH)`, `install it: sudo apt-get install ${pkg}`, { cause: error }));
      } else reject(error);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolvePromise({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

/** The last few non-empty lines of a tool's output, for an error message. */
export function tail(output: string, lines = 4): string {
  return output.split('\n').map((l) => l.trim()).filter((l) => l !== '').slice(-lines).join(' | ');
}
