// Kafka users (Strimzi KafkaUser, SCRAM, simple authorization) against what
// the code does with Kafka (KAFKA_USE in code.mjs), and each client's SASL
// settings against its user.
import { envOf, mainContainer, secretValue } from "./k8s.mjs";

// A producer needs Write on its topics (Kafka 2.8 and later also take Write
// on any topic as leave to be idempotent, KAFKA-10619, so no IdempotentWrite
// on the cluster); a consumer Read on its topics and its group. Read and
// Write imply Describe.
function needs(use) {
  const acls = new Set();
  for (const topic of Object.keys(use.produce)) acls.add(`topic:${topic}:Write`);
  for (const { topic, group } of use.consume) { acls.add(`topic:${topic}:Read`); acls.add(`group:${group}:Read`); }
  return acls;
}

const OTHER_USERS = {
  // Other internal services publishing jobs (gen.jobs is a public interface).
  "job-publisher": new Set(["topic:gen.jobs:Write"]),
  // KEDA reading the lag of group generator: committed and end offsets.
  "generator-scaler": new Set(["topic:gen.jobs:Describe", "group:generator:Describe"]),
};

function aclsOf(where, user, problem) {
  const out = new Set();
  for (const acl of user.spec?.authorization?.acls ?? []) {
    const r = acl.resource ?? {};
    const name = r.type === "cluster" ? "kafka-cluster" : r.name;
    if ((acl.type ?? "allow") !== "allow") continue;
    if ((r.patternType ?? "literal") !== "literal" || name === "*") problem(where, `${r.type} ${name}: only literal names, no prefixes or *`);
    if ((acl.host ?? "*") !== "*") problem(where, `${r.type} ${name}: host ${acl.host} (pods have no fixed address)`);
    const ops = acl.operations ?? (acl.operation ? [acl.operation] : []);
    if (!ops.length) problem(where, `${r.type} ${name}: no operations`);
    for (const op of ops) out.add(`${r.type}:${name}:${op}`);
  }
  return out;
}

const describe = (acl) => acl.replace(/^(\w+):(.*):(\w+)$/, "$3 on $1 $2");

function compare(where, has, want, problem) {
  for (const a of want) if (!has.has(a)) problem(where, `lacks ${describe(a)}, which its code needs`);
  for (const a of has) {
    const implied = a.endsWith(":Describe") && ["Read", "Write"].some((op) => want.has(a.replace(/Describe$/, op)));
    if (!want.has(a) && !implied) problem(where, `has ${describe(a)}, which nothing needs`);
  }
}

export function checkKafka(overlay, all, use, problem) {
  const topics = all.filter((x) => x.kind === "KafkaTopic");
  const cluster = topics[0]?.metadata.labels?.["strimzi.io/cluster"];
  const kafka = all.find((x) => x.kind === "Kafka");
  const users = new Map(all.filter((x) => x.kind === "KafkaUser").map((u) => [u.metadata.name, u]));
  const keda = all.find((x) => x.kind === "ScaledObject" && x.spec.scaleTargetRef?.name === "generator");
  const wanted = new Map(Object.entries(use).filter(([, u]) => u.consume.length || Object.keys(u.produce).length)
    .map(([service, u]) => [service, needs(u)]));
  wanted.set("job-publisher", OTHER_USERS["job-publisher"]);
  if (keda) wanted.set("generator-scaler", OTHER_USERS["generator-scaler"]);
  for (const name of wanted.keys()) if (!users.has(name)) problem(overlay, `no KafkaUser ${name}`);
  for (const [name, user] of users) {
    const where = `${overlay}/KafkaUser/${name}`;
    if (!wanted.has(name)) { problem(where, `not one of kiebot's Kafka users (${[...wanted.keys()]})`); continue; }
    if (user.metadata.labels?.["strimzi.io/cluster"] !== cluster) problem(where, `strimzi.io/cluster must be ${cluster}, the topics' cluster`);
    if (user.spec?.authentication?.type !== "scram-sha-512") problem(where, "authentication must be scram-sha-512");
    if (user.spec?.authorization?.type !== "simple") problem(where, "authorization must be simple (ACLs)");
    compare(where, aclsOf(where, user, problem), wanted.get(name), problem);
  }

  // The cluster, where the overlay brings it: SCRAM on the clients' listener, ACLs enforced.
  const port = Number((all.find((x) => x.kind === "ConfigMap" && x.metadata.name === "kiebot-config")?.data?.KAFKA_BROKERS ?? "").split(":").pop());
  let listener;
  if (kafka) {
    const where = `${overlay}/Kafka/${kafka.metadata.name}`;
    listener = (kafka.spec?.kafka?.listeners ?? []).find((l) => l.port === port);
    if (!listener) problem(where, `no listener on port ${port} (KAFKA_BROKERS)`);
    else if (listener.authentication?.type !== "scram-sha-512") problem(where, `listener ${listener.name} must authenticate with scram-sha-512`);
    for (const l of kafka.spec?.kafka?.listeners ?? []) if (!l.authentication) problem(where, `listener ${l.name} takes clients without authentication`);
    if (kafka.spec?.kafka?.authorization?.type !== "simple") problem(where, "authorization must be simple, or the KafkaUsers' ACLs do nothing");
    const supers = kafka.spec?.kafka?.authorization?.superUsers ?? [];
    if (supers.length) problem(where, `super users ${supers} bypass every ACL`);
    if (!kafka.spec?.entityOperator?.userOperator) problem(where, "no User Operator: the KafkaUsers would never be created");
  }

  // The clients: SASL/SCRAM as their own user, the password from Strimzi's Secret.
  for (const service of Object.keys(use)) {
    const d = all.find((x) => x.kind === "Deployment" && x.metadata.name === service);
    if (!d || !wanted.has(service)) continue;
    const where = `${overlay}/Deployment/${service}`;
    const env = envOf(mainContainer(d, service), all);
    const protocol = env.get("KAFKA_CFG_SECURITY_PROTOCOL")?.value;
    if (!["sasl_plaintext", "sasl_ssl"].includes(protocol)) problem(where, `KAFKA_CFG_SECURITY_PROTOCOL ${protocol}: sasl_plaintext or sasl_ssl`);
    else if (listener && (listener.tls === true) !== (protocol === "sasl_ssl")) problem(where, `KAFKA_CFG_SECURITY_PROTOCOL ${protocol} does not match listener ${listener.name} (tls: ${listener.tls})`);
    if (env.get("KAFKA_CFG_SASL_MECHANISMS")?.value !== "SCRAM-SHA-512") problem(where, "KAFKA_CFG_SASL_MECHANISMS must be SCRAM-SHA-512");
    if (env.get("KAFKA_CFG_SASL_USERNAME")?.value !== service) problem(where, `KAFKA_CFG_SASL_USERNAME must be its own user ${service}`);
    const secret = env.get("KAFKA_CFG_SASL_PASSWORD")?.secret;
    if (secret?.name !== service || secret?.key !== "password") problem(where, `KAFKA_CFG_SASL_PASSWORD must come from Strimzi's Secret ${service}, key password`);
  }

  // KEDA reads the lag as generator-scaler.
  if (keda) {
    const where = `${overlay}/ScaledObject/${keda.metadata.name}`;
    const trigger = keda.spec.triggers.find((t) => t.type === "kafka");
    if (trigger?.metadata?.sasl !== "scram_sha512") problem(where, "the kafka trigger must use sasl: scram_sha512");
    const auth = all.find((x) => x.kind === "TriggerAuthentication" && x.metadata.name === trigger?.authenticationRef?.name);
    if (!auth) { problem(where, "the kafka trigger has no TriggerAuthentication"); return; }
    const param = (p) => auth.spec?.secretTargetRef?.find((r) => r.parameter === p);
    const password = param("password");
    if (password?.name !== "generator-scaler" || password?.key !== "password") problem(where, "its password must come from Strimzi's Secret generator-scaler, key password");
    const username = param("username");
    const value = username && secretValue(all, username.name, username.key);
    if (!username || (value !== undefined && value !== "generator-scaler")) problem(where, "its username must be generator-scaler");
  }
}
