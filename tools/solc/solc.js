#!/usr/bin/env node
// A native-solc command line on top of the npm `solc` module (the official compiler built to
// wasm), so that py-solc-x, brownie and slither can use it where no native binary can be had.
//
//   solc --version
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths a,b] [input.json]
//   solc --combined-json abi,bin,... [--optimize] [--optimize-runs N] [--evm-version V]
//        [--via-ir] [prefix=target]... (file.sol... | -)
//
// Imports are read like native solc reads them: the source unit name under the base path (the
// working directory when none is given), then under each include path; node_modules (of the
// working directory and of this repository) come last, as implicit include paths. Reads are
// confined to those directories and the --allow-paths ones.
'use strict';

const fs = require('fs');
const path = require('path');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SOLC_DIR = path.dirname(require.resolve('solc/package.json', { paths: [REPO_ROOT] }));
const VERSION_CACHE = path.join(SOLC_DIR, '..', '.cache', 'solc-adapter', 'version.json');
const BANNER = 'solc, the solidity compiler commandline interface';

function fail(message) {
  process.stderr.write(`Error: ${message}\n`);
  process.exitCode = 1;
}

// Writes and lets the event loop drain: process.exit() here would cut a large JSON short on a pipe.
function emit(text) {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function parseArgs(argv) {
  const opts = { includePaths: [], allowPaths: [], remappings: [], files: [] };
  const valueOptions = new Set([
    '--base-path', '--include-path', '--allow-paths', '--combined-json', '--evm-version',
    '--optimize-runs',
  ]);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0) [arg, value] = [arg.slice(0, eq), arg.slice(eq + 1)];
    if (valueOptions.has(arg) && value === undefined) {
      if (i + 1 >= argv.length) throw new Error(`the argument for ${arg} is missing`);
      value = argv[++i];
    }
    switch (arg) {
      case '--version': opts.version = true; break;
      case '--standard-json': opts.standardJson = true; break;
      case '--optimize': opts.optimize = true; break;
      case '--via-ir': opts.viaIR = true; break;
      case '--base-path': opts.basePath = value; break;
      case '--include-path': opts.includePaths.push(value); break;
      case '--allow-paths': opts.allowPaths.push(...value.split(',').filter(Boolean)); break;
      case '--combined-json': opts.combinedJson = value.split(',').filter(Boolean); break;
      case '--evm-version': opts.evmVersion = value; break;
      case '--optimize-runs': opts.optimizeRuns = Number(value); break;
      default:
        if (arg.startsWith('-') && arg !== '-') throw new Error(`unrecognised option '${arg}'`);
        if (arg.includes('=')) opts.remappings.push(arg);
        else opts.files.push(arg);
    }
  }
  return opts;
}

function loadCompiler() {
  return require(SOLC_DIR);
}

// "0.8.37+commit.f401782d". --version comes from a cache so that it does not load the wasm
// compiler (py-solc-x asks about nine times per brownie compile); it is rebuilt when the
// installed solc package changes.
function longVersion() {
  const pkgVersion = require(path.join(SOLC_DIR, 'package.json')).version;
  const key = `${pkgVersion}:${fs.statSync(path.join(SOLC_DIR, 'soljson.js')).size}`;
  try {
    const cached = JSON.parse(fs.readFileSync(VERSION_CACHE, 'utf8'));
    if (cached.key === key) return cached.version;
  } catch (e) { /* no cache yet */ }
  const match = /^(\d+\.\d+\.\d+(?:-[\w.]+)?\+commit\.[0-9a-f]+)/.exec(loadCompiler().version());
  if (!match) throw new Error('cannot read the version of the solc module');
  try {
    fs.mkdirSync(path.dirname(VERSION_CACHE), { recursive: true });
    fs.writeFileSync(VERSION_CACHE, JSON.stringify({ key, version: match[1] }) + '\n');
  } catch (e) { /* read-only node_modules: answer without caching */ }
  return match[1];
}

function isInside(dir, file) {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function realOrResolved(p) {
  try { return fs.realpathSync(p); } catch (e) { return path.resolve(p); }
}

function makeImportCallback(opts) {
  const base = path.resolve(opts.basePath || '.');
  const includes = opts.includePaths.map((p) => path.resolve(p));
  const nodeModules = [...new Set([path.resolve('node_modules'), path.join(REPO_ROOT, 'node_modules')])];
  const prefixes = [base, ...includes, ...nodeModules];
  const allowed = [...prefixes, ...opts.allowPaths.map((p) => path.resolve(p))].map(realOrResolved);

  return function findImport(sourceUnitName) {
    const candidates = path.isAbsolute(sourceUnitName)
      ? [sourceUnitName]
      : prefixes.map((prefix) => path.join(prefix, sourceUnitName));
    for (const candidate of candidates) {
      if (!fs.existsSync(candidate) || !fs.statSync(candidate).isFile()) continue;
      const real = fs.realpathSync(candidate);
      if (!allowed.some((dir) => isInside(dir, real))) {
        return {
          error: `File outside of allowed directories. The following are allowed: ${allowed
            .map((d) => `"${d}"`).join(', ')}.`,
        };
      }
      return { contents: fs.readFileSync(real, 'utf8') };
    }
    return {
      error: `File not found. Searched the following locations: ${candidates
        .map((c) => `"${c}"`).join(', ')}.`,
    };
  };
}

function standardJson(opts) {
  if (opts.files.length > 1) throw new Error('--standard-json takes at most one input file');
  const input = fs.readFileSync(opts.files.length ? opts.files[0] : 0, 'utf8');
  emit(loadCompiler().compile(input, { import: makeImportCallback(opts) }));
}

// Native --combined-json field -> [standard JSON output selection, getter on a contract output].
const COMBINED_FIELDS = {
  abi: ['abi', (c) => c.abi],
  bin: ['evm.bytecode.object', (c) => c.evm.bytecode.object],
  'bin-runtime': ['evm.deployedBytecode.object', (c) => c.evm.deployedBytecode.object],
  'srcmap': ['evm.bytecode.sourceMap', (c) => c.evm.bytecode.sourceMap],
  'srcmap-runtime': ['evm.deployedBytecode.sourceMap', (c) => c.evm.deployedBytecode.sourceMap],
  opcodes: ['evm.bytecode.opcodes', (c) => c.evm.bytecode.opcodes],
  hashes: ['evm.methodIdentifiers', (c) => c.evm.methodIdentifiers],
  metadata: ['metadata', (c) => c.metadata],
  userdoc: ['userdoc', (c) => c.userdoc],
  devdoc: ['devdoc', (c) => c.devdoc],
  'storage-layout': ['storageLayout', (c) => c.storageLayout],
};

function combinedJson(opts) {
  const fields = opts.combinedJson;
  const unknown = fields.filter((f) => f !== 'ast' && !COMBINED_FIELDS[f]);
  if (unknown.length) throw new Error(`invalid --combined-json field(s): ${unknown.join(', ')}`);
  if (!opts.files.length) throw new Error('no input files given (use - for standard input)');

  const base = path.resolve(opts.basePath || '.');
  const sources = {};
  for (const file of opts.files) {
    if (file === '-') {
      sources['<stdin>'] = { content: fs.readFileSync(0, 'utf8') };
    } else {
      const abs = path.resolve(file);
      const name = isInside(base, abs) ? path.relative(base, abs) : abs;
      sources[name] = { content: fs.readFileSync(abs, 'utf8') };
    }
  }
  const selection = fields.filter((f) => f !== 'ast').map((f) => COMBINED_FIELDS[f][0]);
  const settings = {
    optimizer: { enabled: Boolean(opts.optimize), runs: opts.optimizeRuns || 200 },
    remappings: opts.remappings,
    outputSelection: { '*': { '*': selection, '': fields.includes('ast') ? ['ast'] : [] } },
  };
  if (opts.evmVersion) settings.evmVersion = opts.evmVersion;
  if (opts.viaIR) settings.viaIR = true;

  // Imports may also come from the directories of the files given.
  const dirs = opts.files.filter((f) => f !== '-').map((f) => path.dirname(path.resolve(f)));
  const callback = makeImportCallback({ ...opts, allowPaths: [...opts.allowPaths, ...dirs] });
  const solc = loadCompiler();
  const output = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings }),
    { import: callback }));

  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  for (const e of output.errors || []) process.stderr.write(`${e.formattedMessage || e.message}\n`);
  if (errors.length) { process.exitCode = 1; return; }

  const result = { contracts: {}, version: `${longVersion()}.Linux.g++` };
  for (const [file, contracts] of Object.entries(output.contracts || {})) {
    for (const [name, c] of Object.entries(contracts)) {
      const entry = {};
      for (const f of fields.filter((x) => x !== 'ast')) entry[f] = COMBINED_FIELDS[f][1](c);
      result.contracts[`${file}:${name}`] = entry;
    }
  }
  const sourceList = Object.keys(output.sources || {});
  result.sourceList = sourceList;
  if (fields.includes('ast')) {
    result.sources = {};
    for (const file of sourceList) {
      result.sources[file] = { AST: output.sources[file].ast, id: output.sources[file].id };
    }
  }
  emit(JSON.stringify(result));
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
    if (opts.version) {
      emit(`${BANNER}\nVersion: ${longVersion()}.Linux.g++`);
    } else if (opts.standardJson) {
      standardJson(opts);
    } else if (opts.combinedJson) {
      combinedJson(opts);
    } else {
      throw new Error('this adapter supports only --version, --standard-json and --combined-json');
    }
  } catch (e) {
    fail(e.message);
  }
}

main();
