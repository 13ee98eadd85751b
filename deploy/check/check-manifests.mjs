// Checks deploy/k8s offline: every overlay renders with `kubectl kustomize`,
// every object validates against the Kubernetes and KEDA schemas
// (kubernetes-models), Strimzi objects have the fields that matter, and the
// manifests agree with the code (required variables, ports, probes, topics,
// the generator's replica ceiling, no secrets in ConfigMaps), and so do the
// credentials: Redis ACL users (redis.mjs), Kafka users (kafka.mjs),
// NetworkPolicies and accounts tokens (access.mjs), each against what the
// code does (code.mjs).
// Usage: node check-manifests.mjs <repository root> <directory with the built binaries>
// Exit 0: all good; 1: a problem (each one printed); 77: skipped (says why;
// without the binaries everything but the --help comparison still runs).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { accountsScopes, kafkaUse, redisCommands, redisKeys } from "./code.mjs";
import { checkAccountsTokens, checkNetworkPolicies } from "./access.mjs";
import { checkKafka } from "./kafka.mjs";
import { envOf } from "./k8s.mjs";
import { checkAclRules, checkRedisClients, checkRedisLive, checkRedisServer, parseAcl } from "./redis.mjs";

const [root, bin] = process.argv.slice(2);
const SKIP = 77;
const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);

function skip(why) {
  console.log(`SKIPPED: ${why}`);
  process.exit(SKIP);
}

try {
  execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
} catch {
  skip("kubectl is not installed. Install it (https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/, " +
       "or `apt-get install kubectl` from the Kubernetes apt repository) and run ./dev test again.");
}
const modules = path.join(path.dirname(new URL(import.meta.url).pathname), "node_modules");
if (!existsSync(path.join(modules, "kubernetes-models")) || !existsSync(path.join(modules, "yaml"))) {
  skip("the schema validators are not installed: run ./dev setup (npm ci in deploy/check).");
}
const YAML = await import("yaml");

// The topics and their partitions, as ARCHITECTURE.md and tools/run-stack.sh have them.
const TOPICS = { "tg.updates": 12, "gen.jobs": 24, "gen.results": 12, "gen.jobs.dlq": 3 };
const stack = readFileSync(path.join(root, "tools/run-stack.sh"), "utf8").match(/--topics ([\w.:,]+)/)[1];
for (const item of stack.split(",")) {
  const [name, partitions] = item.split(":");
  if (TOPICS[name] !== Number(partitions)) problem("tools/run-stack.sh", `${name} has ${partitions} partitions, ARCHITECTURE.md says ${TOPICS[name]}`);
}

// What each binary says about itself in --help: required variables and its default port.
const DRAIN_S = { ingress: 15, generator: 10, accounts: 5 };
function describe(service) {
  const run = spawnSync(path.join(bin, service), ["--help"], { encoding: "utf8" });
  if (run.error) throw run.error;
  const help = run.stdout + run.stderr;  // --help prints to stderr
  const required = [...help.matchAll(/^ {2}([A-Z0-9_]+) \(required\)/gm)].map((m) => m[1]);
  const port = Number(help.match(/^ {2}HTTP_PORT \(default (\d+)\)/m)[1]);
  return { required, port };
}
const services = {};
const unbuilt = [];
for (const s of Object.keys(DRAIN_S)) {
  try {
    services[s] = describe(s);
  } catch (e) {
    services[s] = null;
    unbuilt.push(`${path.join(bin ?? "", s)} (${e.message.split("\n")[0]})`);
  }
}

// What the code does with Redis, Kafka and accounts.
const redisCode = redisCommands(root, problem);
const redisKeyExamples = redisKeys(root, problem);
const kafkaCode = kafkaUse(root, TOPICS, problem);
const scopes = accountsScopes(root);
const ACL_FILE = "deploy/k8s/overlays/dev/redis-users.acl";
const ACL_SCRIPT = "deploy/k8s/overlays/dev/redis-acl.sh";
const aclRules = readFileSync(path.join(root, ACL_FILE), "utf8");
const aclUsers = parseAcl(aclRules, ACL_FILE, problem);
checkAclRules(ACL_FILE, aclUsers, redisCode, redisKeyExamples, problem);
const liveNote = await checkRedisLive(ACL_FILE, aclRules, readFileSync(path.join(root, ACL_SCRIPT), "utf8"),
                                      redisCode, redisKeyExamples, problem);

async function schemaClass(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  const module = group === "keda.sh" ? `@kubernetes-models/keda/keda.sh/${version}`
               : group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  try {
    const exports = await import(module);
    return exports[kind];
  } catch {
    return undefined;
  }
}

function checkStrimzi(where, o, all) {
  const kafkas = all.filter((x) => x.kind === "Kafka").map((x) => x.metadata.name);
  if (o.apiVersion !== "kafka.strimzi.io/v1") problem(where, `apiVersion ${o.apiVersion}, expected kafka.strimzi.io/v1`);
  const cluster = o.metadata?.labels?.["strimzi.io/cluster"];
  if (o.kind === "KafkaTopic") {
    if (!cluster) problem(where, "no strimzi.io/cluster label: the topic operator would ignore it");
    if (kafkas.length && !kafkas.includes(cluster)) problem(where, `cluster ${cluster} is not the Kafka in this overlay (${kafkas})`);
    if (!Number.isInteger(o.spec?.partitions) || o.spec.partitions < 1) problem(where, "spec.partitions must be a positive integer");
    if (!Number.isInteger(o.spec?.replicas) || o.spec.replicas < 1) problem(where, "spec.replicas must be a positive integer");
    if (!(o.metadata.name in TOPICS)) problem(where, "not one of kiebot's topics");
    else if (o.spec.partitions !== TOPICS[o.metadata.name]) problem(where, `${o.spec.partitions} partitions, ARCHITECTURE.md says ${TOPICS[o.metadata.name]}`);
    for (const [k, v] of Object.entries(o.spec?.config ?? {})) if (typeof v === "object") problem(where, `config ${k} must be a scalar`);
  } else if (o.kind === "KafkaNodePool") {
    if (!kafkas.includes(cluster)) problem(where, `strimzi.io/cluster ${cluster} names no Kafka here`);
    const roles = o.spec?.roles ?? [];
    if (!roles.length || roles.some((r) => r !== "controller" && r !== "broker")) problem(where, "roles must be controller and/or broker");
    if (!Number.isInteger(o.spec?.replicas) || o.spec.replicas < 1) problem(where, "spec.replicas must be a positive integer");
    if (!o.spec?.storage?.type) problem(where, "spec.storage.type is required");
  } else if (o.kind === "KafkaUser") {
    if (!cluster) problem(where, "no strimzi.io/cluster label: the user operator would ignore it");
    if (kafkas.length && !kafkas.includes(cluster)) problem(where, `cluster ${cluster} is not the Kafka in this overlay (${kafkas})`);
    if (!o.spec?.authentication?.type) problem(where, "spec.authentication.type is required");
    for (const acl of o.spec?.authorization?.acls ?? []) {
      if (!acl.resource?.type || (acl.resource.type !== "cluster" && !acl.resource.name)) problem(where, "an ACL needs resource.type and resource.name");
      if (acl.operation) problem(where, "operation was removed in kafka.strimzi.io/v1: use operations");
    }
  } else if (o.kind === "Kafka") {
    const listeners = o.spec?.kafka?.listeners ?? [];
    if (!listeners.length) problem(where, "spec.kafka.listeners is empty");
    for (const l of listeners) if (!l.name || !Number.isInteger(l.port) || !l.type) problem(where, "a listener needs name, port and type");
    if (!all.some((x) => x.kind === "KafkaNodePool" && x.metadata.labels?.["strimzi.io/cluster"] === o.metadata.name)) {
      problem(where, "no KafkaNodePool for this cluster (Strimzi v1 needs node pools)");
    }
  } else {
    problem(where, `unexpected Strimzi kind ${o.kind}`);
  }
}

function checkService(where, name, d, all) {
  const spec = d.spec.template.spec;
  const c = spec.containers.find((x) => x.name === name) ?? spec.containers[0];
  const env = envOf(c, all);
  // Without the binary, its contract is not known: the port is taken as the manifest has it.
  const { required, port } = services[name] ?? { required: [], port: Number(env.get("HTTP_PORT")?.value) };
  for (const v of required) if (!env.has(v)) problem(where, `${v} is required by ${name} --help and not set`);
  if (env.has("PUBLIC_BASE_URL") && !env.has("CALLBACK_SECRET")) problem(where, "PUBLIC_BASE_URL without CALLBACK_SECRET: the generator refuses to start");
  const httpPort = env.get("HTTP_PORT")?.value ? Number(env.get("HTTP_PORT").value) : port;
  if (httpPort !== port) problem(where, `HTTP_PORT ${httpPort}, the binary's contract says ${port}`);
  const named = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
  if (![...named.values()].includes(httpPort)) problem(where, `no containerPort ${httpPort}`);
  for (const [probe, want] of [["livenessProbe", "/healthz"], ["readinessProbe", "/readyz"]]) {
    const get = c[probe]?.httpGet;
    if (!get) { problem(where, `no ${probe}`); continue; }
    if (get.path !== want) problem(where, `${probe} path ${get.path}, expected ${want}`);
    const p = typeof get.port === "string" ? named.get(get.port) : get.port;
    if (p !== httpPort) problem(where, `${probe} port ${get.port} is not ${httpPort}`);
  }
  if (!(spec.terminationGracePeriodSeconds > DRAIN_S[name])) problem(where, `terminationGracePeriodSeconds must exceed the ${DRAIN_S[name]} s drain`);
  if (spec.securityContext?.runAsNonRoot !== true) problem(where, "pod must run as non-root");
  if (c.securityContext?.readOnlyRootFilesystem !== true) problem(where, "read-only root filesystem required");
  if (!c.resources?.requests || !c.resources?.limits) problem(where, "resources requests and limits required");
  const replicas = { ingress: 2, accounts: 2 }[name];
  if (replicas && d.spec.replicas !== replicas) problem(where, `replicas ${d.spec.replicas}, expected ${replicas}`);
  if (!all.some((x) => x.kind === "PodDisruptionBudget" && x.spec.selector?.matchLabels?.["app.kubernetes.io/name"] === name)) problem(where, "no PodDisruptionBudget");
  if (!all.some((x) => x.kind === "Service" && x.metadata.name === name)) problem(where, "no Service");
}

const overlays = ["dev", "prod", "prod-hpa"];
for (const overlay of overlays) {
  const dir = path.join(root, "deploy/k8s/overlays", overlay);
  let rendered;
  try {
    rendered = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    problem(overlay, `kubectl kustomize failed: ${e.stderr || e.message}`);
    continue;
  }
  const all = YAML.parseAllDocuments(rendered).map((d) => d.toJS()).filter(Boolean);
  // kustomize folds long base64 values into lines, which the API server
  // (Go's base64) reads as one; the schema's "byte" format does not.
  for (const s of all.filter((x) => x.kind === "Secret")) {
    for (const k of Object.keys(s.data ?? {})) s.data[k] = String(s.data[k]).replace(/\s+/g, "");
  }
  let validated = 0;
  for (const o of all) {
    const where = `${overlay}/${o.kind}/${o.metadata?.name}`;
    if (o.apiVersion?.startsWith("kafka.strimzi.io/")) { checkStrimzi(where, o, all); continue; }
    const Cls = await schemaClass(o.apiVersion, o.kind);
    if (!Cls) { problem(where, `no schema for ${o.apiVersion} ${o.kind}`); continue; }
    try {
      new Cls(o).validate();
      validated++;
    } catch (e) {
      problem(where, `schema: ${e.message}`);
    }
  }
  for (const name of Object.keys(services)) {
    const d = all.find((x) => x.kind === "Deployment" && x.metadata.name === name);
    if (!d) problem(overlay, `no Deployment ${name}`);
    else checkService(`${overlay}/Deployment/${name}`, name, d, all);
  }
  // The generator's replicas: never more than gen.jobs has partitions.
  const partitions = all.find((x) => x.kind === "KafkaTopic" && x.metadata.name === "gen.jobs")?.spec.partitions;
  const keda = all.find((x) => x.kind === "ScaledObject" && x.spec.scaleTargetRef?.name === "generator");
  const hpa = all.find((x) => x.kind === "HorizontalPodAutoscaler" && x.spec.scaleTargetRef?.name === "generator");
  if (!keda && !hpa) problem(overlay, "the generator has neither a KEDA ScaledObject nor an HPA");
  if (keda && hpa) problem(overlay, "the generator has both a ScaledObject and an HPA: they would fight");
  if (keda) {
    if (!(keda.spec.maxReplicaCount <= partitions)) problem(overlay, `KEDA maxReplicaCount ${keda.spec.maxReplicaCount} exceeds gen.jobs' ${partitions} partitions`);
    if (keda.spec.minReplicaCount !== 1) problem(overlay, "KEDA minReplicaCount must be 1");
    const t = keda.spec.triggers.find((x) => x.type === "kafka");
    if (!t || t.metadata.consumerGroup !== "generator" || t.metadata.topic !== "gen.jobs" || !t.metadata.lagThreshold) {
      problem(overlay, "KEDA needs a kafka trigger on group generator, topic gen.jobs, with a lagThreshold");
    }
  }
  if (hpa && !(hpa.spec.maxReplicas <= partitions)) problem(overlay, `HPA maxReplicas ${hpa.spec.maxReplicas} exceeds gen.jobs' ${partitions} partitions`);
  for (const topic of Object.keys(TOPICS)) if (!all.some((x) => x.kind === "KafkaTopic" && x.metadata.name === topic)) problem(overlay, `no KafkaTopic ${topic}`);
  // accounts: reachable from ingress and generator only.
  const np = all.find((x) => x.kind === "NetworkPolicy" && x.spec.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "accounts");
  const peers = (np?.spec.ingress ?? []).flatMap((r) => r.from ?? []).map((f) => f.podSelector?.matchLabels?.["app.kubernetes.io/name"] ?? "(other)");
  if (!np || peers.sort().join() !== "generator,ingress") problem(overlay, `accounts must admit exactly ingress and generator (admits: ${peers})`);
  // No secret in a ConfigMap: neither by name nor by value.
  const secretValues = all.filter((x) => x.kind === "Secret").flatMap((s) => [
    ...Object.values(s.data ?? {}).map((v) => Buffer.from(v, "base64").toString()), ...Object.values(s.stringData ?? {})]);
  for (const cm of all.filter((x) => x.kind === "ConfigMap")) {
    for (const [k, v] of Object.entries(cm.data ?? {})) {
      if (/TOKEN|SECRET|PASSWORD|_KEY$/i.test(k)) problem(`${overlay}/ConfigMap/${cm.metadata.name}`, `${k} looks like a secret`);
      if (secretValues.some((s) => s.length >= 6 && String(v).includes(s))) problem(`${overlay}/ConfigMap/${cm.metadata.name}`, `${k} holds a secret's value`);
    }
  }
  // Credentials and reach.
  const overlayAcl = all.find((x) => x.kind === "ConfigMap" && x.metadata.name === "kiebot-redis-acl")?.data?.["users.acl"];
  if (overlayAcl !== undefined && overlayAcl !== aclRules) problem(`${overlay}/ConfigMap/kiebot-redis-acl`, `users.acl is not ${ACL_FILE}`);
  checkRedisClients(overlay, all, aclUsers, problem);
  const redisHere = checkRedisServer(overlay, all, aclUsers, problem);
  checkKafka(overlay, all, kafkaCode, problem);
  checkNetworkPolicies(overlay, all, problem);
  checkAccountsTokens(overlay, all, scopes, problem);
  console.log(`${overlay}: ${all.length} objects rendered, ${validated} validated against Kubernetes/KEDA schemas; ` +
              `Redis users${redisHere ? ", Redis server" : ""}, Kafka users${all.some((x) => x.kind === "Kafka") ? " and cluster" : ""}, ` +
              "NetworkPolicies and accounts tokens checked");
}
console.log(`Redis ACL (${ACL_FILE}): ${[...aclUsers.keys()].join(", ")}; ` +
            Object.entries(redisCode).map(([s, c]) => `${s} ${c.commands.size} commands`).join(", ") + `; ${liveNote}`);

if (problems.length) {
  for (const p of problems) console.log(`PROBLEM ${p}`);
  process.exit(1);
}
if (unbuilt.length) skip(`everything else passed, but the --help comparison needs ${unbuilt.join(", ")}: build first.`);
console.log("deploy/k8s: every overlay renders and validates, and agrees with the binaries and the code");
