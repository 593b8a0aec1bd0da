#!/usr/bin/env node
/**
 * Compiles one OCSF event class from the OCSF schema's source files (a checkout of
 * github.com/ocsf/ocsf-schema at a release tag) into a JSON Schema (draft 2020-12), the
 * way the OCSF server's JSON-schema export does: the class's attributes merged along its
 * `extends` chain and `$include`d profiles, each attribute typed from dictionary.json,
 * objects compiled the same way into $defs, profile attributes optional, integer enums for the *_id attributes,
 * `requirement: required` as JSON-schema required, no other properties.
 *
 *   node scripts/ocsf-json-schema.mjs /path/to/ocsf-schema detection_finding > test/schemas/ocsf-1.8.0-detection_finding.schema.json
 *
 * The output is vendored in test/schemas with the OCSF licence (Apache-2.0): tests
 * validate flowsieve's OCSF findings against it with ajv.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [root, className] = process.argv.slice(2);
if (!root || !className) {
  process.stderr.write('usage: ocsf-json-schema.mjs OCSF_SCHEMA_DIR CLASS_NAME\n');
  process.exit(2);
}
const read = (p) => JSON.parse(readFileSync(join(root, p), 'utf8'));
const dictionary = read('dictionary.json');
const version = read('version.json').version;
const categories = read('categories.json').attributes;

/** Every file under a folder, by its `name`. */
function byName(dir) {
  const out = new Map();
  const walk = (d) => {
    for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.json')) {
        const j = read(join(d, e.name));
        if (j.name) out.set(j.name, j);
      }
    }
  };
  walk(dir);
  return out;
}
const events = byName('events');
const objects = byName('objects');

/** Attributes of a class or object: its parents' first, then its includes, then its own. */
function attributesOf(def, all) {
  let attrs = {};
  if (def.extends && all.has(def.extends)) attrs = attributesOf(all.get(def.extends), all);
  const own = { ...def.attributes };
  for (const inc of own.$include ?? []) {
    const file = read(inc);
    // a profile's attributes are there only when the event applies the profile: optional here
    const optional = file.meta === 'profile' ? { requirement: 'optional' } : {};
    for (const [k, v] of Object.entries(file.attributes ?? {})) attrs[k] = { ...attrs[k], ...v, ...optional };
  }
  delete own.$include;
  for (const [k, v] of Object.entries(own)) attrs[k] = { ...attrs[k], ...v };
  return attrs;
}

const TYPES = dictionary.types.attributes;
/** A dictionary type name down to its JSON type, with the pattern of the way down. */
function baseType(t) {
  let pattern;
  while (TYPES[t] && TYPES[t].type) {
    pattern ??= TYPES[t].regex;
    t = TYPES[t].type;
  }
  const json = { string_t: 'string', integer_t: 'integer', long_t: 'integer', float_t: 'number', boolean_t: 'boolean', json_t: null }[t];
  return { json, pattern };
}

const defs = {};
function objectRef(name) {
  if (!defs[name]) {
    defs[name] = {}; // placeholder: objects refer to each other
    defs[name] = compile(objects.get(name), objects);
  }
  return { $ref: `#/$defs/${name}` };
}

function attributeSchema(name, a) {
  const d = { ...dictionary.attributes[name], ...a };
  const type = d.type ?? dictionary.attributes[name]?.type;
  let s;
  if (type === 'object') s = { type: 'object' }; // the generic Object (unmapped, data): any properties
  else if (objects.has(type)) s = objectRef(type);
  else if (type === 'object_t' || type === 'json_t') s = {};
  else {
    const b = baseType(type);
    s = b.json ? { type: b.json } : {};
  }
  const en = d.enum;
  if (en && s.type === 'integer') s = { ...s, enum: Object.keys(en).map(Number) };
  return d.is_array ? { type: 'array', items: s } : s;
}

/** Observable type ids: the server adds every type's, attribute's and object's `observable` number to observable.type_id. */
const OBSERVABLE_IDS = [
  ...Object.values(TYPES), ...Object.values(dictionary.attributes), ...objects.values(),
].map((x) => x.observable).filter((x) => Number.isInteger(x));

function compile(def, all) {
  const attrs = attributesOf(def, all);
  if (def.name === 'observable' && attrs.type_id?.enum) {
    attrs.type_id = { ...attrs.type_id, enum: { ...attrs.type_id.enum, ...Object.fromEntries(OBSERVABLE_IDS.map((n) => [n, {}])) } };
  }
  const properties = {};
  const required = [];
  for (const [name, a] of Object.entries(attrs)) {
    if (!dictionary.attributes[name] && !a.type) continue;
    properties[name] = attributeSchema(name, a);
    if (a.requirement === 'required') required.push(name);
  }
  return { type: 'object', properties, required: required.sort(), additionalProperties: false };
}

const cls = events.get(className);
if (!cls) throw new Error(`no class '${className}'`);
const category = categories[attributesOf(cls, events) && (cls.category ?? events.get(cls.extends)?.category)];
const classUid = category.uid * 1000 + cls.uid;
const schema = compile(cls, events);
schema.properties.class_uid = { const: classUid };
schema.properties.category_uid = { const: category.uid };
schema.$schema = 'https://json-schema.org/draft/2020-12/schema';
schema.$id = `https://schema.ocsf.io/${version}/classes/${className}`;
schema.title = `OCSF ${version} ${cls.caption} (class_uid ${classUid})`;
schema.$comment = `Compiled by scripts/ocsf-json-schema.mjs from github.com/ocsf/ocsf-schema at ${version} (Apache-2.0, see LICENSE-OCSF)`;
schema.$defs = defs;
process.stdout.write(JSON.stringify(schema, null, 1) + '\n');
