// `xapi lint [DIR]`: the reference architecture's rules on rendered manifests. Exit 1 on an error finding (notes do not fail).
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ALL_RULES, lint, toSarif, type Finding, type LintInput } from '../../policy/lint.js';
import { loadManifests } from '../load-manifests.js';
import { processIo, type CliIo } from '../io.js';

const VERSION = '0.1.0';

/** 1-based start line of each YAML document in a file (SARIF wants a region). */
async function documentLines(file: string): Promise<number[]> {
  const text = await readFile(file, 'utf8');
  const docs = parseAllDocuments(text);
  return docs.map((d) => {
    const start = d.contents?.range?.[0] ?? d.range[0];
    return text.slice(0, start).split('\n').length;
  });
}

export async function runLint(dir: string, output: string, io: CliIo): Promise<Finding[]> {
  if (!['text', 'json', 'sarif'].includes(output)) throw new Error(`--output must be text, json or sarif, got ${output}`);
  const loaded = await loadManifests(dir);
  const lines = new Map<string, number[]>();
  for (const file of new Set(loaded.map((l) => l.file))) lines.set(file, await documentLines(file));
  const inputs: LintInput[] = loaded.map((l) => {
    const line = lines.get(l.file)?.[l.index];
    return { ...l, ...(line !== undefined && { line }) };
  });
  const findings = lint(inputs);
  const rel = (f: string) => relative(process.cwd(), f).split('\\').join('/');
  if (output === 'json') {
    io.out(JSON.stringify({ findings: findings.map((f) => ({ ...f, file: rel(f.file) })), rules: ALL_RULES }, null, 2) + '\n');
  } else if (output === 'sarif') {
    io.out(JSON.stringify(toSarif(findings, { version: VERSION, uri: rel }), null, 2) + '\n');
  } else if (findings.length === 0) {
    io.out(`xapi lint: ${loaded.length} objects under ${dir}, no findings\n`);
  } else {
    for (const f of findings) {
      const rule = ALL_RULES.find((r) => r.id === f.ruleId)!;
      io.out(`${rel(f.file)}:${f.line ?? 1}: ${f.ruleId}${f.level === 'error' ? '' : ` (${f.level})`} ${rule.name}: ${f.object}: ${f.message}\n`);
    }
    const notes = findings.filter((f) => f.level === 'note').length;
    const warnings = findings.filter((f) => f.level === 'warning').length;
    io.out(`xapi lint: ${findings.length - notes - warnings} error(s), ${warnings ? `${warnings} warning(s), ` : ''}${notes} note(s) in ${loaded.length} objects\n`);
  }
  // Warnings and notes are things to know about; only errors fail.
  io.exitCode(findings.some((f) => f.level === 'error') ? 1 : 0);
  return findings;
}

export function registerLint(program: Command, io: CliIo = processIo): void {
  program
    .command('lint')
    .description('check rendered manifests against the four-layer rules and the audit trail (exit 1 on an error; warnings and notes do not fail)')
    .argument('[dir]', 'folder or file of rendered manifests', 'manifests')
    .option('--output <format>', 'text | json | sarif (SARIF 2.1.0 for GitHub code scanning)', 'text')
    .action(async (dir: string, opts: { output: string }) => {
      await runLint(dir, opts.output, io);
    });
}
