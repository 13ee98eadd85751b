// Redis ACL users (deploy/k8s/overlays/dev/redis-users.acl) against the code
// and the Deployments: each service connects as its own user, which may send
// exactly the commands its code sends (its Lua scripts included: Redis checks
// commands called from scripts against the caller's ACL) and whose key
// patterns cover its keys and no other service's.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { REDIS_COMMANDS, SERVICES } from "./code.mjs";
import { envOf, mainContainer, secretValue } from "./k8s.mjs";

// user lines only; Redis's ACL file has no comments, redis-acl.sh drops them.
export function parseAcl(text, where, problem) {
  const users = new Map();
  text.split("\n").forEach((line, i) => {
    const words = line.trim().split(/\s+/).filter(Boolean);
    if (!words.length || words[0].startsWith("#")) return;
    if (words[0] !== "user" || words.length < 2) { problem(`${where}:${i + 1}`, "a line that is neither `user <name> <rules>` nor a comment"); return; }
    if (users.has(words[1])) problem(`${where}:${i + 1}`, `user ${words[1]} defined twice`);
    users.set(words[1], { rules: words.slice(2), line: i + 1 });
  });
  return users;
}

// Redis's glob (stringmatchlen): * ? [...] [^...] and \ escapes.
export function globMatches(pattern, key) {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") re += "[\\s\\S]*";
    else if (c === "?") re += "[\\s\\S]";
    else if (c === "\\" && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) { re += "\\["; continue; }
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith("^");
      if (negate) body = body.slice(1);
      re += `[${negate ? "^" : ""}${body.replace(/[\]\\]/g, "\\$&")}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`).test(key);
}

function rulesOf(user) {
  const r = { on: false, off: false, nopass: false, inlinePassword: false, keys: [], channels: [], commands: new Set(), broad: [] };
  for (const rule of user.rules) {
    if (rule === "on") r.on = true;
    else if (rule === "off") r.off = true;
    else if (rule === "nopass") r.nopass = true;
    else if (rule.startsWith(">") || rule.startsWith("#")) r.inlinePassword = true;
    else if (rule.startsWith("~")) r.keys.push(rule.slice(1));
    else if (rule.startsWith("&")) r.channels.push(rule.slice(1));
    else if (rule.startsWith("+") && !rule.startsWith("+@")) r.commands.add(rule.slice(1).toLowerCase());
    else if (rule !== "reset" && rule !== "resetkeys" && rule !== "resetchannels" && rule !== "resetpass") r.broad.push(rule);
  }
  return r;
}

// The rules alone: default closed, each service user narrow and equal to its code.
export function checkAclRules(where, users, code, keys, problem) {
  const def = users.get("default");
  if (!def) problem(where, "no `user default` line: Redis would create an open default user (nopass, every key and command)");
  else if (!rulesOf(def).off || rulesOf(def).on) problem(`${where}:${def.line}`, "user default must be off: nobody logs in without a user name");
  for (const [name, user] of users) {
    const r = rulesOf(user);
    const at = `${where}:${user.line}`;
    if (r.nopass) problem(at, `user ${name} has nopass`);
    if (r.inlinePassword) problem(at, `user ${name} has a password in the rules; passwords come from the Secret kiebot-redis-users (redis-acl.sh)`);
    for (const c of r.commands) if (!REDIS_COMMANDS.has(c)) problem(at, `user ${name}: +${c} is not a Redis 7.0 command (deploy/check/redis-commands.txt)`);
    if (!SERVICES.includes(name)) continue;
    if (user.rules[0] !== "reset") problem(at, `user ${name} must start with reset, so that nothing is inherited`);
    if (!r.on) problem(at, `user ${name} is not on`);
    if (r.broad.length) problem(at, `user ${name} has broad rules ${r.broad.join(" ")}: list single commands (+cmd) and key patterns (~pattern) only`);
    if (r.channels.length) problem(at, `user ${name} may use Pub/Sub channels; its code uses none`);
    if (r.keys.some((k) => k === "*" || !/^[^*?[]{2,}/.test(k))) problem(at, `user ${name}: key patterns ${r.keys.join(" ")} are too broad (each starts with a fixed prefix)`);
    const { commands } = code[name];
    for (const [c, from] of commands) if (!r.commands.has(c)) problem(at, `user ${name} lacks +${c}, which its code sends (${from})`);
    for (const c of r.commands) if (!commands.has(c) && c !== "select") problem(at, `user ${name} may send ${c}, which its code never sends: remove +${c}`);
    for (const key of keys[name]) if (!r.keys.some((p) => globMatches(p, key))) problem(at, `user ${name} cannot reach its key ${key}`);
    for (const other of SERVICES.filter((s) => s !== name)) {
      for (const key of keys[other]) {
        if (!keys[name].includes(key) && r.keys.some((p) => globMatches(p, key))) problem(at, `user ${name} reaches ${other}'s key ${key}`);
      }
    }
  }
}

// redis://user:password@host:port/db, as libs/redis's parse_url reads it.
export function parseRedisUrl(url) {
  if (!url.startsWith("redis://")) return undefined;
  let rest = url.slice("redis://".length);
  const out = { username: "", password: "", db: 0 };
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(":");
    if (colon < 0) out.password = userinfo;
    else { out.username = userinfo.slice(0, colon); out.password = userinfo.slice(colon + 1); }
  }
  const slash = rest.indexOf("/");
  const db = slash >= 0 ? rest.slice(slash + 1) : "";
  if (db && !/^\d+$/.test(db)) return undefined;
  out.db = Number(db || 0);
  out.hostport = slash >= 0 ? rest.slice(0, slash) : rest;
  if (!out.hostport || out.hostport.startsWith(":")) return undefined;
  return out;
}

// Each Deployment's REDIS_URL: its own user, its password from a Secret of its own.
export function checkRedisClients(overlay, all, users, problem) {
  const passwords = new Map();
  for (const cm of all.filter((x) => x.kind === "ConfigMap")) {
    if ("REDIS_URL" in (cm.data ?? {})) problem(`${overlay}/ConfigMap/${cm.metadata.name}`, "REDIS_URL in a ConfigMap: every Deployment builds its own, with its ACL user");
  }
  for (const service of SERVICES) {
    const where = `${overlay}/Deployment/${service}`;
    const d = all.find((x) => x.kind === "Deployment" && x.metadata.name === service);
    if (!d) continue;
    const env = envOf(mainContainer(d, service), all);
    const raw = env.get("REDIS_URL");
    if (!raw?.value || raw.configMap) { problem(where, "REDIS_URL must be set in the Deployment, with its own ACL user"); continue; }
    const url = parseRedisUrl(raw.value);
    if (!url) { problem(where, `REDIS_URL ${raw.value} is not redis://user:password@host:port/db`); continue; }
    if (url.username !== service) problem(where, `REDIS_URL logs in as "${url.username}", not as its own ACL user ${service}`);
    const secret = url.password.match(/^«secret:([^/]+)\/([^»]+)»$/);
    if (!secret) { problem(where, "REDIS_URL's password must be a variable from a Secret ($(REDIS_PASSWORD), defined before REDIS_URL)"); continue; }
    const ref = `${secret[1]}/${secret[2]}`;
    if (passwords.has(ref)) problem(where, `REDIS_URL uses the password ${ref} of ${passwords.get(ref)}`);
    passwords.set(ref, service);
    if (/[@/]/.test(url.hostport) || url.hostport.includes("«")) problem(where, `REDIS_URL's address ${url.hostport} is not host:port`);
    const user = users.get(url.username);
    if (!user) problem(where, `REDIS_URL's user ${url.username} is not in the ACL rules`);
    else if (url.db !== 0 && !rulesOf(user).commands.has("select")) problem(where, `REDIS_URL selects db ${url.db}: user ${url.username} needs +select`);
    const value = secretValue(all, secret[1], secret[2]);
    if (all.some((x) => x.kind === "Secret" && x.metadata.name === secret[1]) && value === undefined) {
      problem(where, `Secret ${secret[1]} has no key ${secret[2]}`);
    }
    if (value !== undefined && !/^[A-Za-z0-9._~-]+$/.test(value)) {
      problem(`${overlay}/Secret/${secret[1]}`, `key ${secret[2]}: the password goes into REDIS_URL unencoded: letters, digits and - _ . ~ only`);
    }
  }
}

// The example Redis (where the overlay has one): ACL file rendered at start,
// a password per user in the Secret, the probe as a user of its own.
export function checkRedisServer(overlay, all, users, problem) {
  const sts = all.find((x) => x.kind === "StatefulSet" && x.spec.template.metadata?.labels?.["app.kubernetes.io/name"] === "redis");
  if (!sts) return false;
  const where = `${overlay}/StatefulSet/${sts.metadata.name}`;
  const c = mainContainer(sts, "redis");
  const args = [...(c.command ?? []), ...(c.args ?? [])];
  if (!args.includes("--aclfile")) problem(where, "redis-server runs without --aclfile: the default user is open");
  if (args.some((a) => /requirepass|protected-mode/.test(a))) problem(where, "use the ACL users, not requirepass");
  const secretVolume = sts.spec.template.spec.volumes?.find((v) => v.secret);
  const secretName = secretVolume?.secret.secretName;
  if (!secretName) problem(where, "no Secret with the users' passwords mounted");
  for (const name of users.keys()) {
    if (name === "default" || !secretName) continue;
    const v = secretValue(all, secretName, name);
    if (all.some((x) => x.kind === "Secret" && x.metadata.name === secretName) && !v) problem(`${overlay}/Secret/${secretName}`, `no password for Redis user ${name}`);
  }
  const probe = JSON.stringify(c.readinessProbe ?? {});
  const probeUser = probe.match(/--user (\w+)/)?.[1];
  if (!probeUser) problem(where, "the readiness probe does not log in as a user");
  else if (SERVICES.includes(probeUser) || ![...rulesOf(users.get(probeUser) ?? { rules: [] }).commands].every((x) => x === "ping")) {
    problem(where, `the probe's user ${probeUser} must be one that may only PING`);
  }
  return true;
}

// The rules and redis-acl.sh in a real redis-server (Debian's, on a Unix
// socket of a temporary directory, no TCP): the ACL file loads, each
// password works, Redis reads each service user as the code needs it.
// Returns what it found, for the summary.
export async function checkRedisLive(where, rules, script, code, keys, report) {
  if (spawnSync("redis-server", ["--version"]).error || spawnSync("redis-cli", ["--version"]).error) {
    return "redis-server or redis-cli not installed: the ACL rules were not loaded into a real Redis";
  }
  let found = 0;
  const problem = (w, m) => { found++; report(w, m); };
  const failed = "redis-server disagrees (below)";
  const dir = mkdtempSync(path.join(tmpdir(), "kiebot-acl-"));
  let server;
  try {
    const users = parseAcl(rules, where, () => {});
    const secrets = path.join(dir, "passwords");
    mkdirSync(secrets);
    const passwords = {};
    for (const name of [...users.keys(), "deploy-check"]) {
      passwords[name] = randomBytes(16).toString("hex");
      writeFileSync(path.join(secrets, name), passwords[name]);
    }
    writeFileSync(path.join(dir, "rules.acl"), `${rules}\nuser deploy-check reset on ~* &* +@all\n`);
    writeFileSync(path.join(dir, "redis-acl.sh"), script);
    const aclFile = path.join(dir, "users.acl");
    const render = spawnSync("sh", [path.join(dir, "redis-acl.sh")], { encoding: "utf8",
      env: { ...process.env, REDIS_ACL_RULES: path.join(dir, "rules.acl"), REDIS_ACL_PASSWORDS: secrets, REDIS_ACL_FILE: aclFile } });
    if (render.status !== 0) { problem(where, `redis-acl.sh failed: ${render.stderr.trim()}`); return failed; }
    const socket = path.join(dir, "redis.sock");
    server = spawn("redis-server", ["--port", "0", "--unixsocket", socket, "--unixsocketperm", "700", "--aclfile", aclFile,
      "--save", "", "--appendonly", "no", "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    server.stdout.on("data", (d) => { log += d; });
    server.stderr.on("data", (d) => { log += d; });
    const exited = new Promise((resolve) => server.on("exit", resolve));
    const cli = (user, ...args) => spawnSync("redis-cli", ["-s", socket, "--user", user, "--no-auth-warning", ...args],
      { encoding: "utf8", env: { ...process.env, REDISCLI_AUTH: passwords[user] } }).stdout?.trim() ?? "";
    const deadline = Date.now() + 5000;
    while (cli("deploy-check", "PING") !== "PONG") {
      if (Date.now() > deadline || server.exitCode !== null) {
        const why = log.split("\n").filter((l) => / # /.test(l) && !/WARNING Memory|oO0Oo|Redis version|Configuration loaded|Server initialized/.test(l));
        problem(where, `redis-server did not start with these ACL rules: ${why.map((l) => l.replace(/^.* # /, "")).join(" ").slice(0, 400)}`);
        return failed;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const name of users.keys()) {
      if (name === "default" || !rulesOf(users.get(name)).on) continue;
      const auth = spawnSync("redis-cli", ["-s", socket, "AUTH", name, passwords[name]], { encoding: "utf8" });
      if (auth.stdout.trim() !== "OK") problem(where, `user ${name} cannot log in with its password as redis-acl.sh renders it`);
    }
    for (const name of SERVICES.filter((s) => users.has(s))) {
      const lines = cli("deploy-check", "ACL", "GETUSER", name).split("\n");
      const granted = new Set((lines[lines.indexOf("commands") + 1] ?? "").split(" ").filter((w) => w.startsWith("+")).map((w) => w.slice(1)));
      for (const [c, from] of code[name].commands) if (!granted.has(c)) problem(where, `Redis does not let ${name} send ${c} (${from})`);
      const probe = ["hget", "get", "hgetall", "zcard", "exists"].find((c) => code[name].commands.has(c));
      if (!probe) continue;
      const run = (key) => cli("deploy-check", "ACL", "DRYRUN", name, probe.toUpperCase(), key, ...(probe === "hget" ? ["f"] : []));
      for (const key of keys[name]) if (run(key) !== "OK") problem(where, `Redis refuses ${name} its key ${key}: ${run(key)}`);
      for (const other of SERVICES.filter((s) => s !== name)) {
        for (const key of keys[other].filter((k) => !keys[name].includes(k))) {
          if (run(key) === "OK") problem(where, `Redis lets ${name} reach ${other}'s key ${key}`);
        }
      }
    }
    server.kill("SIGTERM");
    await exited;
    return found ? failed : "loaded into redis-server 7: every password logs in, Redis grants each service its code's commands and keys, and no other service's keys";
  } finally {
    if (server && server.exitCode === null) server.kill("SIGKILL");
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}
