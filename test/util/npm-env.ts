/**
 * The environment for commands run in another npm project (a fresh app, a minimal app), without
 * what npm sets for the script or command that runs this process (`npm test`, `npm run bench`,
 * `npx jest`, `npm exec -c`): left in, `npm_config_call` would turn the other project's `npx tsc`
 * into `npm exec -c`, and the package and lifecycle variables would describe this repository, so
 * that `npm run synth` there would run this repository's script. The user's own npm configuration
 * (registry, cache) stays.
 */
export function commandEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (
      /^npm_(lifecycle|package)_/i.test(key) ||
      /^npm_(command|execpath|node_execpath|config_call|config_local_prefix)$/i.test(key) ||
      key === 'INIT_CWD'
    ) {
      delete env[key];
    }
  }
  return env;
}
