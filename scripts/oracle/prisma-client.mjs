// Generate (or reuse) a Prisma 7 client for a schema.prisma, offline.
//
// The schema is normalised first: its generator blocks are replaced by one
// `prisma-client` generator writing into the cache folder, and datasource
// `url`/`directUrl`/`shadowDatabaseUrl` lines (Prisma 6 style, rejected by
// Prisma 7) are dropped. The cache key is the sha256 of the normalised schema,
// so a second run reuses the client (CI keeps it under target/oracle-cache).
// `prisma generate` tries to download a native schema engine first; pointing
// PRISMA_SCHEMA_ENGINE_BINARY at any existing file keeps it offline.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The schema text with one generator writing to `output` and no datasource URLs. */
export function normaliseSchema(text, output) {
  let out = text.replace(/^\s*generator\s+\w+\s*\{[\s\S]*?^\s*\}/gm, '');
  out = out.replace(/(^\s*datasource\s+\w+\s*\{)([\s\S]*?)(^\s*\})/m, (_m, open, body, close) => {
    const kept = body
      .split('\n')
      .filter((l) => !/^\s*(url|directUrl|shadowDatabaseUrl|relationMode|extensions)\s*=/.test(l))
      .join('\n');
    return open + kept + close;
  });
  return `generator client {\n  provider     = "prisma-client"\n  output       = "${output}"\n  moduleFormat = "esm"\n}\n\n${out}`;
}

/**
 * Returns the folder of a generated client for `schemaPath` (its `client.ts` is
 * imported with tsx). `nodeModules` is the folder holding prisma + @prisma/client.
 */
export function generateClient(schemaPath, { cacheDir, nodeModules }) {
  const text = readFileSync(schemaPath, 'utf8');
  const hash = createHash('sha256').update(normaliseSchema(text, 'OUT')).digest('hex').slice(0, 16);
  const dir = path.resolve(cacheDir, hash);
  const out = path.join(dir, 'client');
  if (existsSync(path.join(out, 'client.ts'))) return out;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The generated client imports @prisma/client/runtime: resolve it from here.
  if (!existsSync(path.join(cacheDir, 'node_modules'))) {
    symlinkSync(path.resolve(nodeModules), path.join(cacheDir, 'node_modules'), 'dir');
  }
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  const schemaOut = path.join(dir, 'schema.prisma');
  writeFileSync(schemaOut, normaliseSchema(text, './client'));
  const prismaBin = path.join(nodeModules, 'prisma', 'build', 'index.js');
  try {
    execFileSync(process.execPath, [prismaBin, 'generate', '--schema', schemaOut], {
      cwd: dir,
      env: {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        CHECKPOINT_DISABLE: '1',
        PRISMA_GENERATE_SKIP_AUTOINSTALL: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`prisma generate failed for ${schemaPath}: ${(e.stderr ?? '').toString().trim().split('\n').slice(-3).join(' ')}`);
  }
  return out;
}

export async function importClient(out) {
  return import(pathToFileURL(path.join(out, 'client.ts')).href);
}

/** The connection options `@prisma/adapter-mariadb` takes, from a
 *  `mysql://` or `mariadb://` URL (the oracle and the MariaDB probe). */
export function mariadbOptions(url) {
  const u = new URL(url.replace(/^mariadb:/, 'mysql:'));
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1),
  };
}
