// The import specifiers of a TypeScript/JavaScript source file, without a
// TypeScript parser: a small lexer that knows where code is (it skips
// comments, strings, template literals and regular expression literals, and
// re-enters code inside `${…}`), and a scan over its tokens for
//
//   import … from 'x'   import type … from 'x'   import 'x'
//   export … from 'x'   export * from 'x'         export type { … } from 'x'
//   import('x')         typeof import('x')        require('x')
//   new URL('x', import.meta.url)                  (files reached by URL: workers, data)
//
// `obj.import(…)`, `{ import: … }` and `import.meta` are not imports. A
// dynamic import or require whose argument is not a literal is reported with
// specifier null (the rules decide whether it may be there).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export type ImportKind = 'static' | 'type' | 'side-effect' | 'export-from' | 'dynamic' | 'type-query' | 'require' | 'url';

export interface ImportRef {
  /** As written; null for a computed dynamic import or require. */
  specifier: string | null;
  kind: ImportKind;
  /** 1-based line of the specifier (of `import`/`require` when computed). */
  line: number;
}

interface Token {
  type: 'id' | 'str' | 'tmpl' | 'num' | 'punc' | 'regex';
  /** Identifier name, punctuator, or a string's value (a template's only when it has no `${…}`). */
  value: string | null;
  line: number;
}

/** After these keywords an expression starts, so `/` opens a regular expression. */
const EXPRESSION_KEYWORDS = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);
const PUNCTUATORS = ['>>>=', '...', '===', '!==', '**=', '<<=', '>>=', '>>>', '&&=', '||=', '??=', '=>', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '**', '<<', '>>'];

const isIdStart = (c: string): boolean => /[A-Za-z_$#\u00a0-\uffff]/.test(c);
const isIdPart = (c: string): boolean => /[\w$\u00a0-\uffff]/.test(c);

/** The tokens of `source` (comments and whitespace dropped). */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  /** One entry per open `{`: true when it is a template's `${`. */
  const braces: boolean[] = [];
  let i = 0;
  let line = 1;
  const n = source.length;

  /** Whether the token at k ends an operand (then `/` divides); a `!` after an operand is TypeScript's non-null assertion. */
  const endsOperand = (k: number): boolean => {
    const tok = tokens[k];
    if (!tok) return false;
    if (tok.type === 'id') return !EXPRESSION_KEYWORDS.has(tok.value!);
    if (tok.type === 'punc') return [')', ']', '}'].includes(tok.value!) || (tok.value === '!' && endsOperand(k - 1));
    return true;
  };
  const regexAllowed = (): boolean => !endsOperand(tokens.length - 1);

  /** Reads a template from after its opening backtick or a `}` closing a substitution. */
  const readTemplate = (startLine: number, continued: boolean): void => {
    let cooked = '';
    for (;;) {
      if (i >= n) throw new Error(`unterminated template literal from line ${startLine}`);
      const c = source[i]!;
      if (c === '\\') {
        cooked += source[i + 1] ?? '';
        if (source[i + 1] === '\n') line++;
        i += 2;
      } else if (c === '`') {
        i++;
        tokens.push({ type: 'tmpl', value: continued ? null : cooked, line: startLine });
        return;
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2;
        braces.push(true);
        tokens.push({ type: 'tmpl', value: null, line: startLine });
        return;
      } else {
        if (c === '\n') line++;
        cooked += c;
        i++;
      }
    }
  };

  while (i < n) {
    const c = source[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff' || c === '\u00a0') {
      i++;
    } else if (c === '/' && source[i + 1] === '/') {
      while (i < n && source[i] !== '\n') i++;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`unterminated comment from line ${line}`);
      for (let k = i; k < end; k++) if (source[k] === '\n') line++;
      i = end + 2;
    } else if (c === '#' && i === 0 && source[1] === '!') {
      while (i < n && source[i] !== '\n') i++;
    } else if (c === '"' || c === "'") {
      const startLine = line;
      let value = '';
      i++;
      for (;;) {
        if (i >= n || source[i] === '\n') throw new Error(`unterminated string on line ${startLine}`);
        const d = source[i]!;
        if (d === c) break;
        if (d === '\\') {
          value += source[i + 1] ?? '';
          if (source[i + 1] === '\n') line++;
          i += 2;
        } else {
          value += d;
          i++;
        }
      }
      i++;
      tokens.push({ type: 'str', value, line: startLine });
    } else if (c === '`') {
      i++;
      readTemplate(line, false);
    } else if (c === '/' && regexAllowed()) {
      const startLine = line;
      let inClass = false;
      i++;
      for (;;) {
        if (i >= n || source[i] === '\n') throw new Error(`unterminated regular expression on line ${startLine}`);
        const d = source[i]!;
        if (d === '\\') i += 2;
        else {
          if (d === '[') inClass = true;
          else if (d === ']') inClass = false;
          else if (d === '/' && !inClass) break;
          i++;
        }
      }
      i++;
      while (i < n && isIdPart(source[i]!)) i++; // flags
      tokens.push({ type: 'regex', value: null, line: startLine });
    } else if (isIdStart(c)) {
      const start = i++;
      while (i < n && isIdPart(source[i]!)) i++;
      tokens.push({ type: 'id', value: source.slice(start, i), line });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const start = i++;
      while (i < n && /[\w.]/.test(source[i]!)) i++;
      tokens.push({ type: 'num', value: source.slice(start, i), line });
    } else if (c === '{') {
      braces.push(false);
      tokens.push({ type: 'punc', value: c, line });
      i++;
    } else if (c === '}') {
      i++;
      if (braces.pop() === true) readTemplate(line, true);
      else tokens.push({ type: 'punc', value: c, line });
    } else {
      const p = PUNCTUATORS.find((q) => source.startsWith(q, i)) ?? c;
      tokens.push({ type: 'punc', value: p, line });
      i += p.length;
    }
  }
  return tokens;
}

const literal = (t: Token | undefined): string | null => ((t?.type === 'str' || t?.type === 'tmpl') && t.value !== null ? t.value : null);
const isPunc = (t: Token | undefined, p: string): boolean => t?.type === 'punc' && t.value === p;
const isId = (t: Token | undefined, name: string): boolean => t?.type === 'id' && t.value === name;

/** Every import specifier in `source`, in order. Throws on source the lexer cannot read (unterminated string, comment, …). */
export function scanImports(source: string): ImportRef[] {
  const t = tokenize(source);
  const refs: ImportRef[] = [];
  /** `from 'x'` at k: the specifier token, or -1. */
  const fromAt = (k: number): number => (isId(t[k], 'from') && t[k + 1]?.type === 'str' ? k + 1 : -1);
  /** A call's single literal argument at k (`(` at k): a ref, or a computed one. */
  const call = (k: number, kind: ImportKind, line: number): void => {
    const arg = literal(t[k + 1]);
    if (arg !== null && (isPunc(t[k + 2], ')') || isPunc(t[k + 2], ','))) refs.push({ specifier: arg, kind, line: t[k + 1]!.line });
    else refs.push({ specifier: null, kind, line });
  };

  for (let k = 0; k < t.length; k++) {
    const tok = t[k]!;
    if (tok.type !== 'id') continue;
    const prev = t[k - 1];
    if (isPunc(prev, '.') || isPunc(prev, '?.')) continue; // a property: obj.import(…), obj.require(…)
    const next = t[k + 1];
    if (tok.value === 'import') {
      if (isPunc(next, '(')) call(k + 1, isId(prev, 'typeof') ? 'type-query' : 'dynamic', tok.line);
      else if (next?.type === 'str') refs.push({ specifier: next.value, kind: 'side-effect', line: next.line });
      else if (next?.type === 'id' || isPunc(next, '{') || isPunc(next, '*')) {
        // an import clause: names, `type`, `* as x`, `{ a as b, … }`, then `from 'x'` (or `= require('x')`, seen as require)
        const typeOnly = isId(next, 'type') && !(isId(t[k + 2], 'from') && fromAt(k + 3) < 0) && !isPunc(t[k + 2], ',') && !isPunc(t[k + 2], '=');
        for (let j = k + 1; j < t.length; j++) {
          const s = fromAt(j);
          if (s >= 0) {
            refs.push({ specifier: t[s]!.value, kind: typeOnly ? 'type' : 'static', line: t[s]!.line });
            k = s;
            break;
          }
          const u = t[j]!;
          if (!(u.type === 'id' || (u.type === 'punc' && ['{', '}', ',', '*'].includes(u.value!)))) break;
        }
      }
    } else if (tok.value === 'export') {
      let j = k + 1;
      const typeOnly = isId(t[j], 'type') && (isPunc(t[j + 1], '{') || isPunc(t[j + 1], '*'));
      if (typeOnly) j++;
      if (isPunc(t[j], '*')) {
        j++;
        if (isId(t[j], 'as')) j += 2;
      } else if (isPunc(t[j], '{')) {
        while (j < t.length && !isPunc(t[j], '}')) j++;
        j++;
      } else continue;
      const s = fromAt(j);
      if (s >= 0) {
        refs.push({ specifier: t[s]!.value, kind: typeOnly ? 'type' : 'export-from', line: t[s]!.line });
        k = s;
      }
    } else if (tok.value === 'require' && isPunc(next, '(')) {
      call(k + 1, 'require', tok.line);
    } else if (tok.value === 'URL' && isId(prev, 'new') && isPunc(next, '(')) {
      // new URL('x', import.meta.url): a file this module reaches at run time
      const arg = literal(t[k + 2]);
      if (arg !== null && isPunc(t[k + 3], ',') && isId(t[k + 4], 'import') && isPunc(t[k + 5], '.') && isId(t[k + 6], 'meta')) {
        refs.push({ specifier: arg, kind: 'url', line: t[k + 2]!.line });
      }
    }
  }
  return refs;
}

/** A source file of the repository and what it imports. */
export interface ModuleImports {
  /** Repository-relative, with `/` separators. */
  file: string;
  imports: ImportRef[];
}

/** Source files scanned: hand-written TypeScript and JavaScript. */
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
/** Never scanned: dependencies, build output, caches, generated code (and the folders the root .gitignore names). */
const SKIP_DIRS = ['node_modules', '.git', 'build', '.cache', 'generated', 'coverage'];

/** Folder names the root .gitignore ignores (`name/` lines). */
function ignoredFolders(root: string): string[] {
  if (!existsSync(join(root, '.gitignore'))) return [];
  return readFileSync(join(root, '.gitignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => /^[\w.-]+\/$/.test(l)).map((l) => l.slice(0, -1));
}

/** Every source file under `root` (repository-relative paths, sorted). */
export function sourceFiles(root: string): string[] {
  const skip = new Set([...SKIP_DIRS, ...ignoredFolders(root)]);
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!skip.has(entry.name)) walk(join(dir, entry.name));
      } else if (entry.isFile() && SOURCE.test(entry.name)) {
        out.push(relative(root, join(dir, entry.name)).split(sep).join('/'));
      }
    }
  };
  walk(root);
  return out.sort();
}

/** The imports of every source file under `root`. A file the lexer cannot read fails with its name. */
export function collectImports(root: string): ModuleImports[] {
  return sourceFiles(root).map((file) => {
    try {
      return { file, imports: scanImports(readFileSync(join(root, file), 'utf8')) };
    } catch (error) {
      throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
    }
  });
}
