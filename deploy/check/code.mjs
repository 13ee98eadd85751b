// What the services' code does with Redis, Kafka and accounts, read from the
// sources (services/, libs/*/src): the facts that deploy/check holds the
// Redis ACL users, the KafkaUsers and the accounts tokens to.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export const SERVICES = ["ingress", "generator", "accounts"];

const here = path.dirname(new URL(import.meta.url).pathname);
// Every Redis 7.0 command and subcommand, lower case (`config|get`).
export const REDIS_COMMANDS = new Set(readFileSync(path.join(here, "redis-commands.txt"), "utf8")
  .split("\n").filter((l) => !l.startsWith("#")).join(" ").split(/\s+/).filter(Boolean));
const CONTAINERS = new Set([...REDIS_COMMANDS].filter((c) => c.includes("|")).map((c) => c.split("|")[0]));

function sourcesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourcesUnder(p);
    return /\.(cpp|hpp|lua)$/.test(e.name) ? [p] : [];
  });
}

const lineOf = (text, index) => text.slice(0, index).split("\n").length;

function commandName(word, sub) {
  const name = word.toLowerCase();
  if (!REDIS_COMMANDS.has(name)) return undefined;
  return CONTAINERS.has(name) && sub && REDIS_COMMANDS.has(`${name}|${sub.toLowerCase()}`) ? `${name}|${sub.toLowerCase()}` : name;
}

// The Redis commands one file sends: the first word of each command vector
// (`std::vector<std::string> command{"HGET", ...}`, `Args c{x ? "SADD" : "SREM"}`,
// `command.push_back("EVALSHA")`), each redis.call/pcall of its Lua (files
// and raw strings), and hiredis format strings (`"AUTH %s"`).
function commandsOf(file, rel, problem) {
  const text = readFileSync(file, "utf8");
  const found = [];
  const add = (word, sub, index, setup = false) => {
    const name = commandName(word, sub);
    if (name) found.push({ name, where: `${rel}:${lineOf(text, index)}`, setup });
  };
  if (file.endsWith(".lua") || /redis\.p?call\(/.test(text)) {
    for (const m of text.matchAll(/redis\.p?call\(\s*(['"])([A-Za-z]+)\1(?:\s*,\s*(['"])([A-Za-z-]+)\3)?/g)) add(m[2], m[4], m.index);
    for (const m of text.matchAll(/redis\.p?call\(\s*(?!['"])/g)) {
      problem(`${rel}:${lineOf(text, m.index)}`, "a redis.call whose command is not a literal: deploy/check cannot tell which command it sends");
    }
  }
  if (!file.endsWith(".lua") && /redis/i.test(text)) {
    const vector = /(?:std::vector<std::string>|\bArgs)\s+\w+\s*=?\s*\{\s*(?:[^"{};]*?\?\s*"(\w+)"\s*:\s*"(\w+)"|"(\w+)"(?:\s*,\s*"([\w-]+)")?)/g;
    for (const m of text.matchAll(vector)) {
      if (m[1]) { add(m[1], undefined, m.index); add(m[2], undefined, m.index); } else add(m[3], m[4], m.index);
    }
    for (const m of text.matchAll(/(?:push_back|emplace_back)\(\s*"([A-Z]+)"\s*\)|\[0\]\s*=\s*"([A-Z]+)"/g)) add(m[1] ?? m[2], undefined, m.index);
    for (const m of text.matchAll(/redisAsyncCommand\w*\([^;]*?"([A-Z]+)\b[^"]*"/g)) add(m[1], undefined, m.index, true);
  }
  return found;
}

// Library parts (libs/*/src) that send Redis commands, and how to tell that a service uses them.
const COMMON = {
  "lease.cpp": /\bLease\s+\w+\s*[({;]/,  // a variable or a member
  "rate_limiter.cpp": /\bRateLimiter\s+\w+\s*[({]/,
  "redis.cpp": /\.eval\(/,  // Client::eval: EVALSHA, then EVAL on NOSCRIPT
};

// Per service: Map(command -> where the code sends it), and the commands
// the client sends on connecting (AUTH, SELECT) apart.
export function redisCommands(root, problem) {
  const out = {};
  const common = {};
  const where = {};
  for (const file of sourcesUnder(path.join(root, "libs"))) {
    const rel = path.relative(root, file);
    const found = commandsOf(file, rel, problem);
    if (!found.length) continue;
    const base = path.basename(file);
    if (!(base in COMMON)) problem(rel, "sends Redis commands, and deploy/check does not know which services use it (COMMON in deploy/check/code.mjs)");
    common[base] = found;
    where[base] = file;
  }
  for (const service of SERVICES) {
    const files = sourcesUnder(path.join(root, "services", service));
    const text = files.map((f) => readFileSync(f, "utf8")).join("\n");
    let used = Object.keys(common).filter((base) => base !== "redis.cpp" && COMMON[base]?.test(text));
    const usedText = used.map((b) => readFileSync(where[b], "utf8")).join("\n");
    if (common["redis.cpp"] && COMMON["redis.cpp"].test(text + usedText)) used = [...used, "redis.cpp"];
    const found = [...files.flatMap((f) => commandsOf(f, path.relative(root, f), problem)),
                   ...used.flatMap((b) => common[b].filter((c) => !c.setup))];
    const commands = new Map();
    for (const c of found) if (!commands.has(c.name)) commands.set(c.name, c.where);
    const setup = new Map((common["redis.cpp"] ?? []).filter((c) => c.setup).map((c) => [c.name, c.where]));
    out[service] = { commands, setup };
  }
  return out;
}

// Keys each service builds, with the code that shows it: [file, literal it
// contains, example keys]. A literal that is gone means the code changed
// its keys: update this table and the ACL users (redis-users.acl).
export const REDIS_KEYS = {
  ingress: [
    ["libs/redis/src/lease.cpp", '"{lease:"', ["{lease:telegram:1}", "{lease:telegram:1}:epoch"]],
    ["services/ingress/src/app.cpp", '"telegram:"', []],
    ["services/ingress/src/app.cpp", '"}:offset"', ["{lease:telegram:1}:offset"]],
    ["libs/redis/src/rate_limiter.cpp", '":chat:"', ["{tg-limits:1}:global", "{tg-limits:1}:chat:2"]],
    ["libs/redis/src/rate_limiter.cpp", '"tg-limits:"', []],
    ["services/ingress/main.cpp", 'telegram_limits_prefix(', []],
    ["services/ingress/src/dialog/store.cpp", '"dlg:{du:"', ["dlg:{du:1}:running", "dlg:{du:1}:history", "dlg:{du:1}:job:j1"]],
    ["services/ingress/src/dialog/store.cpp", '"dlg:{dc:"', ["dlg:{dc:1}:state"]],
    ["services/ingress/src/dialog/store.cpp", '"dlg:update:"', ["dlg:update:1"]],
    ["services/ingress/src/dialog/money_queue.hpp", '"{money}"', ["{money}:ops", "{money}:due", "{money}:since", "{money}:refused"]],
  ],
  generator: [
    ["services/generator/src/job_store.cpp", '"{gen}:due"', ["{gen}:due"]],
    ["services/generator/src/job_store.cpp", '"{gen}:claim:"', ["{gen}:claim:j1"]],
    ["services/generator/src/job_store.cpp", '"{gen}:job:"', ["{gen}:job:j1"]],
    ["services/generator/src/kie_budget.cpp", '"{gen}:kie-budget"', ["{gen}:kie-budget"]],
    ["libs/redis/src/rate_limiter.cpp", '"tg-limits:"', ["{tg-limits:1}:global", "{tg-limits:1}:chat:2"]],
    ["services/generator/main.cpp", 'telegram_limits_prefix(', []],
  ],
  accounts: [
    ["services/accounts/src/store.cpp", '"{u:"', ["{u:1}", "{u:1}:acct", "{u:1}:ledger"]],
    ["services/accounts/src/store_internal.hpp", '"accounts:stats"', ["accounts:stats"]],
    ["services/accounts/src/store_internal.hpp", '"accounts:admins"', ["accounts:admins"]],
    ["services/accounts/src/store_internal.hpp", '"accounts:hold_expiry"', ["accounts:hold_expiry"]],
    ["services/accounts/src/store_internal.hpp", '"accounts:audit"', ["accounts:audit"]],
  ],
};

export function redisKeys(root, problem) {
  const out = {};
  for (const [service, rows] of Object.entries(REDIS_KEYS)) {
    out[service] = [];
    for (const [file, literal, keys] of rows) {
      const p = path.join(root, file);
      if (!existsSync(p) || !readFileSync(p, "utf8").includes(literal)) {
        problem(file, `no longer contains ${literal}: the ${service} keys changed; update REDIS_KEYS in deploy/check/code.mjs and redis-users.acl`);
      }
      out[service].push(...keys);
    }
  }
  return out;
}

// What each service does with Kafka, with the code that shows it: a file and
// a pattern it must match. Groups and topics the code names beyond these fail
// the check, so that a new consumer or producer gets its ACL.
export const KAFKA_USE = {
  ingress: {
    produce: {
      "tg.updates": [["services/ingress/src/poller/poller.hpp", /topic = "tg\.updates"/],
                     ["services/ingress/src/poller/poller.cpp", /producer_\.send_batch\(/]],
      "gen.jobs": [["services/ingress/src/dialog/dialog.hpp", /jobs_topic = "gen\.jobs"/],
                   ["services/ingress/src/dialog/effects/submission.cpp", /producer\.send\(options_\.jobs_topic/]],
    },
    consume: [
      { topic: "tg.updates", group: "ingress-dialog",
        evidence: [["services/ingress/src/app.cpp", /consumer_options\("ingress-dialog", \{PollerOptions\{\}\.topic\}/]] },
      { topic: "gen.results", group: "ingress-dialog-results",
        evidence: [["services/ingress/src/app.cpp", /consumer_options\("ingress-dialog-results", \{"gen\.results"\}/]] },
    ],
  },
  generator: {
    produce: {
      "gen.results": [["services/generator/src/generator.hpp", /results_topic = "gen\.results"/],
                      ["services/generator/src/generator.cpp", /producer\.send\(options_\.results_topic/]],
      "gen.jobs.dlq": [["services/generator/src/generator.hpp", /dlq_topic = "gen\.jobs\.dlq"/],
                       ["services/generator/src/generator.cpp", /producer\.send\(options_\.dlq_topic/]],
    },
    consume: [
      { topic: "gen.jobs", group: "generator",
        evidence: [["services/generator/main.cpp", /consumer_options\("generator", \{"gen\.jobs"\}/]] },
    ],
  },
  accounts: { produce: {}, consume: [] },
};

export function kafkaUse(root, topics, problem) {
  for (const [service, use] of Object.entries(KAFKA_USE)) {
    const evidence = [...Object.values(use.produce).flat(), ...use.consume.flatMap((c) => c.evidence)];
    for (const [file, pattern] of evidence) {
      const p = path.join(root, file);
      if (!existsSync(p) || !pattern.test(readFileSync(p, "utf8"))) {
        problem(file, `no longer matches ${pattern}: what ${service} does with Kafka changed; update KAFKA_USE in deploy/check/code.mjs and its KafkaUser`);
      }
    }
    const named = new Set([...Object.keys(use.produce), ...use.consume.map((c) => c.topic)]);
    const groups = new Set(use.consume.map((c) => c.group));
    for (const file of sourcesUnder(path.join(root, "services", service))) {
      const text = readFileSync(file, "utf8");
      const rel = path.relative(root, file);
      for (const m of text.matchAll(/(?:group_id\s*=\s*|consumer_options\(\s*)"([^"]+)"/g)) {
        if (!groups.has(m[1])) problem(`${rel}:${lineOf(text, m.index)}`, `consumer group ${m[1]} is not in KAFKA_USE (deploy/check/code.mjs): give ${service}'s KafkaUser Read on it`);
      }
      for (const topic of Object.keys(topics)) {
        const i = text.indexOf(`"${topic}"`);
        if (i >= 0 && !named.has(topic)) problem(`${rel}:${lineOf(text, i)}`, `names topic ${topic}, which KAFKA_USE (deploy/check/code.mjs) does not list for ${service}`);
      }
      if (!named.size && /kafka::(Producer|Consumer)\s+\w+\s*[({]/.test(text)) problem(rel, `${service} uses Kafka, and KAFKA_USE lists nothing for it`);
    }
  }
  return KAFKA_USE;
}

// The scopes accounts knows (kScopes in services/accounts/src/callers.cpp);
// undefined where that file is not there.
export function accountsScopes(root) {
  const file = path.join(root, "services/accounts/src/callers.cpp");
  if (!existsSync(file)) return undefined;
  const array = readFileSync(file, "utf8").match(/kScopes\s*=\s*\{([\s\S]*?)\};/);
  return array ? new Set([...array[1].matchAll(/"([^"]+)"/g)].map((m) => m[1])) : undefined;
}
