// Validates every state machine in a CloudFormation/SAM template with asl-validator, the Amazon States
// Language validator on npm, independently of our own tests:
//
//   node check-state-machines.mjs TEMPLATE                 # every state machine must be valid
//   node check-state-machines.mjs --broken-copy TEMPLATE   # the check must fail on a copy with a duplicate state name
//
// Every AWS::Serverless::StateMachine (Definition, DefinitionUri) and AWS::StepFunctions::StateMachine
// (Definition, DefinitionString) is checked, so a state machine added later is checked too. What
// CloudFormation would substitute is replaced by stand-ins of the right shape first: ${Name} of
// DefinitionSubstitutions (a parameter's default, or an ARN for a resource), ${AWS::Region} and the
// other pseudo parameters of a DefinitionString's Fn::Sub, and any other intrinsic function.
// asl-validator's library is called directly and its verdict (isValid, errors) read, rather than its
// command line, which prints a parse failure and still exits 0. Run by .ci/run through check.sh, which
// installs the pinned versions from package-lock.json.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import aslValidator from 'asl-validator';
import YAML from 'yaml';

const STATE_MACHINE_TYPES = ['AWS::Serverless::StateMachine', 'AWS::StepFunctions::StateMachine'];
const PSEUDO = { 'AWS::Region': 'us-east-1', 'AWS::AccountId': '123456789012', 'AWS::Partition': 'aws',
  'AWS::StackName': 'gpt2cls', 'AWS::URLSuffix': 'amazonaws.com' };

const args = process.argv.slice(2);
const brokenCopy = args[0] === '--broken-copy';
const templatePath = brokenCopy ? args[1] : args[0];
if (!templatePath) {
  console.error('usage: node check-state-machines.mjs [--broken-copy] TEMPLATE');
  process.exit(2);
}

// CloudFormation's short forms (!Ref, !Sub, !GetAtt a.b, ...) read as their long forms.
const INTRINSICS = ['Base64', 'Cidr', 'Equals', 'FindInMap', 'GetAZs', 'If', 'ImportValue', 'Join', 'Not', 'And', 'Or',
  'Select', 'Split', 'Sub', 'Transform', 'ToJsonString', 'Length'];
const customTags = [
  { tag: '!Ref', resolve: (value) => ({ Ref: value }) },
  { tag: '!Condition', resolve: (value) => ({ Condition: value }) },
  { tag: '!GetAtt', resolve: (value) => ({ 'Fn::GetAtt': value.split('.') }) },
  { tag: '!GetAtt', collection: 'seq', resolve: (value) => ({ 'Fn::GetAtt': value.toJSON() }) },
];
for (const name of INTRINSICS) {
  customTags.push({ tag: `!${name}`, resolve: (value) => ({ [`Fn::${name}`]: value }) });
  customTags.push({ tag: `!${name}`, collection: 'seq', resolve: (value) => ({ [`Fn::${name}`]: value.toJSON() }) });
  customTags.push({ tag: `!${name}`, collection: 'map', resolve: (value) => ({ [`Fn::${name}`]: value.toJSON() }) });
}

const template = YAML.parse(readFileSync(templatePath, 'utf-8'), { customTags, maxAliasCount: -1 });
const parameters = template.Parameters ?? {};
const resources = template.Resources ?? {};

function isIntrinsic(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1
    && (Object.keys(value)[0] === 'Ref' || Object.keys(value)[0].startsWith('Fn::'));
}

/** What CloudFormation would put for a substitution: a literal, a parameter's default, or an ARN-shaped stand-in. */
function standIn(name, value) {
  if (typeof value === 'string' || typeof value === 'number') {
    return String(value);
  }
  if (value && typeof value.Ref === 'string' && parameters[value.Ref]) {
    const fallback = parameters[value.Ref].Default;
    return fallback !== undefined && String(fallback) !== '' ? String(fallback) : `${name.toLowerCase()}-placeholder`;
  }
  return `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
}

function substitute(text, values, what) {
  return text.replace(/\$\{([^}!]+)\}/g, (whole, name) => {
    if (name in values) {
      return values[name];
    }
    throw new Error(`${what}: \${${name}} is not among the substitutions (${Object.keys(values).join(', ')})`);
  });
}

/** The definition with every placeholder and intrinsic function replaced, as a plain JSON value. */
function resolveDefinition(value, values, what) {
  if (typeof value === 'string') {
    return substitute(value, values, what);
  }
  if (Array.isArray(value)) {
    return value.map((v) => resolveDefinition(v, values, what));
  }
  if (isIntrinsic(value)) {
    return `arn:aws:lambda:us-east-1:123456789012:function:intrinsic-${Object.keys(value)[0].replace('::', '-')}`;
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDefinition(v, values, what)]));
  }
  return value;
}

function definitionOf(id, resource) {
  const properties = resource.Properties ?? {};
  const values = { ...PSEUDO };
  for (const [name, value] of Object.entries(properties.DefinitionSubstitutions ?? {})) {
    values[name] = standIn(name, value);
  }
  if (properties.Definition !== undefined) {
    return resolveDefinition(properties.Definition, values, id);
  }
  if (properties.DefinitionUri !== undefined && typeof properties.DefinitionUri === 'string') {
    const file = resolve(dirname(templatePath), properties.DefinitionUri);
    return resolveDefinition(YAML.parse(readFileSync(file, 'utf-8')), values, `${id} (${file})`);
  }
  let text = properties.DefinitionString;
  if (text && typeof text === 'object' && 'Fn::Sub' in text) {
    const sub = text['Fn::Sub'];
    text = Array.isArray(sub) ? sub[0] : sub;
    if (Array.isArray(sub)) {
      for (const [name, value] of Object.entries(sub[1] ?? {})) {
        values[name] = standIn(name, value);
      }
    }
  }
  if (typeof text === 'string') {
    return JSON.parse(substitute(text, values, id));
  }
  throw new Error(`${id}: no Definition, DefinitionUri or DefinitionString this check can read`);
}

/** Every States map of a definition, the top level's first (Map's ItemProcessor/Iterator, Parallel's Branches). */
function statesMaps(definition, into = []) {
  if (definition && typeof definition.States === 'object') {
    into.push(definition.States);
    for (const state of Object.values(definition.States)) {
      for (const nested of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])]) {
        statesMaps(nested, into);
      }
    }
  }
  return into;
}

/**
 * The broken copy: the first state of a nested States map renamed to the top level's first state
 * (references in that map follow), the mistake this check exists for.
 */
function withDuplicateStateName(definition) {
  const [top, nested] = statesMaps(definition);
  if (!nested) {
    throw new Error('no nested States (Map or Parallel) to put a duplicate name into');
  }
  const [from] = Object.keys(nested);
  const to = Object.keys(top)[0];
  const renamed = Object.fromEntries(Object.entries(nested).map(([name, state]) => [name === from ? to : name, state]));
  for (const key of Object.keys(nested)) {
    delete nested[key];
  }
  Object.assign(nested, JSON.parse(JSON.stringify(renamed), (key, value) =>
    (['Next', 'Default', 'StartAt'].includes(key) && value === from ? to : value)));
  for (const parent of [definition, ...Object.values(top)]) {
    for (const holder of [parent, parent.ItemProcessor, parent.Iterator, ...(parent.Branches ?? [])]) {
      if (holder?.States === nested && holder.StartAt === from) {
        holder.StartAt = to;
      }
    }
  }
  return definition;
}

const machines = Object.entries(resources).filter(([, r]) => STATE_MACHINE_TYPES.includes(r.Type));
if (machines.length === 0) {
  console.error(`error: ${templatePath} has no state machine (${STATE_MACHINE_TYPES.join(', ')}); nothing was checked`);
  process.exit(1);
}

let failures = 0;
let duplicates = 0;
for (const [id, resource] of machines) {
  let definition;
  try {
    definition = definitionOf(id, resource);
    if (brokenCopy) {
      definition = withDuplicateStateName(definition);
    }
  } catch (e) {
    console.error(`✕ ${id}: ${e.message}`);
    failures++;
    continue;
  }
  const result = aslValidator(definition, { checkArn: true, checkPaths: true });
  const report = brokenCopy ? console.log : console.error; // a broken copy's errors are the expected outcome
  if (result.isValid) {
    console.log(`✓ ${id} (${resource.Type}) is valid Amazon States Language`);
  } else {
    failures++;
    report(`✕ ${id} (${resource.Type})${brokenCopy ? ', broken copy,' : ''} is invalid:`);
    for (const error of result.errors) {
      // its own checks give {"Error code", "Message"}; the JSON schema's give {instancePath, message}
      const code = error['Error code'] ?? 'SCHEMA';
      duplicates += code === 'DUPLICATE_STATE_NAMES' ? 1 : 0;
      report(`    ${code}: ${error.Message ?? `${error.instancePath ?? ''} ${error.message ?? ''}`.trim()}`);
    }
  }
}

if (brokenCopy) {
  // The copies must all fail, each for its duplicate name.
  if (failures !== machines.length || duplicates < machines.length) {
    console.error(`error: of ${machines.length} copies with a duplicate state name, asl-validator refused ${failures}`
      + ` and reported DUPLICATE_STATE_NAMES ${duplicates} times`);
    process.exit(1);
  }
  console.log(`the check fails on copies with a duplicate state name (${machines.length} state machines), as it should`);
  process.exit(0);
}
process.exit(failures === 0 ? 0 : 1);
