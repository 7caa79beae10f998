#!/usr/bin/env node
// biome-ignore lint/suspicious/noRedundantUseStrict: a CommonJS script (package.json sets no "type": "module"), not an ES module: this directive is what makes it strict
'use strict';
/**
 * Adds lockfile entries for platform-specific optional dependencies that the
 * registry mirror of this workplace does not serve (it only carries the
 * linux-x64 builds), so `npm ci` with npm 11 (which insists every optional
 * dependency is in the lockfile) works here and on other platforms alike.
 *
 * The entries carry version, os, cpu and libc, but no integrity: npm skips
 * them on a non-matching platform and fetches them on a matching one, where
 * the public registry has them.
 *
 * Run after `npm install` changes package-lock.json: `node scripts/complete-lockfile.js`.
 */
const fs = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const packages = lock.packages;

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openbsd', 'sunos', 'aix'];
const CPU = [
  ['arm64', 'arm64'],
  ['aarch64', 'arm64'],
  ['x64', 'x64'],
  ['ia32', 'ia32'],
  ['ppc64', 'ppc64'],
  ['s390x', 's390x'],
  ['riscv64', 'riscv64'],
  ['loong64', 'loong64'],
  ['arm', 'arm'],
  ['wasm32', 'wasm32'],
];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = OS.find((o) => parts.includes(o));
  let cpu = CPU.find(([token]) => parts.includes(token))?.[1];
  if (!cpu && parts.some((p) => /^(gnu|musl)?eabi(hf)?$/.test(p))) cpu = 'arm';
  const libc = parts.some((p) => p.startsWith('musl')) ? 'musl' : parts.some((p) => p.startsWith('gnu')) ? 'glibc' : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [location, meta] of Object.entries(packages)) {
  if (!meta.optionalDependencies) continue;
  for (const [dep, spec] of Object.entries(meta.optionalDependencies)) {
    const hoisted = `node_modules/${dep}`;
    const nested = `${location ? `${location}/` : ''}node_modules/${dep}`;
    if (packages[hoisted] || packages[nested]) continue;
    const version = String(spec).replace(/^[\^~=]/, '');
    if (!/^\d+\.\d+\.\d+/.test(version)) continue;
    const { os, cpu, libc } = platformOf(dep);
    if (!os && !cpu) continue;
    packages[hoisted] = {
      version,
      ...(cpu ? { cpu: [cpu] } : {}),
      ...(meta.dev ? { dev: true } : {}),
      ...(libc ? { libc: [libc] } : {}),
      optional: true,
      ...(os ? { os: [os] } : {}),
    };
    added++;
  }
}

lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(`complete-lockfile: added ${added} platform entr${added === 1 ? 'y' : 'ies'}\n`);
