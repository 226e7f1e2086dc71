// Reads a checkpoint's tokenizer files with transformers.js (AutoTokenizer.from_pretrained on a local
// directory, no Hub) and checks that truncation + padding give the ids training used and a mask
// that marks them: the test split of the prepared dataset, row by row, in the test file's order.
//
// usage: node check-tokenizer.mjs MODEL_DIR DATASET_DIR TEST_FILE.jsonl [TEXT_COLUMN]
import { readFileSync } from "node:fs";
import path from "node:path";
import { AutoTokenizer, env } from "@huggingface/transformers";

const [modelDir, datasetDir, testFile, textColumn = "text"] = process.argv.slice(2);
if (!testFile) {
  console.error("usage: node check-tokenizer.mjs MODEL_DIR DATASET_DIR TEST_FILE.jsonl [TEXT_COLUMN]");
  process.exit(2);
}

/** The tensors of a safetensors file, read from its header: name -> {dtype, shape, values}. */
function readSafetensors(file) {
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
  const tensors = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const [start, end] = info.data_offsets;
    const data = bytes.subarray(8 + headerLength + start, 8 + headerLength + end);
    const values = [];
    for (let i = 0; i < data.length; i += info.dtype === "I64" ? 8 : 4) {
      values.push(info.dtype === "I64" ? Number(data.readBigInt64LE(i)) : data.readInt32LE(i));
    }
    tensors[name] = values;
  }
  return tensors;
}

// The ids training used: the test shards, each row input_ids[offsets[r] .. offsets[r + 1]).
const manifest = JSON.parse(readFileSync(path.join(datasetDir, "manifest.json"), "utf8"));
const trained = [];
for (const shard of manifest.splits.test.shards) {
  const { input_ids: ids, offsets } = readSafetensors(path.join(datasetDir, shard));
  for (let r = 0; r + 1 < offsets.length; r++) trained.push(ids.slice(offsets[r], offsets[r + 1]));
}
const texts = readFileSync(testFile, "utf8").split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line)[textColumn]);
if (texts.length !== trained.length) {
  console.error(`${testFile} has ${texts.length} rows but the test split ${trained.length}: every row must have been accepted`);
  process.exit(1);
}

env.allowRemoteModels = false;
env.localModelPath = path.dirname(path.resolve(modelDir));
const tokenizer = await AutoTokenizer.from_pretrained(path.basename(path.resolve(modelDir)));
const config = JSON.parse(readFileSync(path.join(modelDir, "config.json"), "utf8"));
console.log(`model_max_length ${tokenizer.model_max_length}, truncation_side ${tokenizer.truncation_side ?? "(default)"},`
  + ` padding_side ${tokenizer.padding_side}, pad_token ${JSON.stringify(tokenizer.pad_token)} (id ${tokenizer.pad_token_id};`
  + ` config.json pad_token_id ${config.pad_token_id})`);

const { input_ids, attention_mask } = tokenizer(texts, { truncation: true, padding: true, add_special_tokens: false });
const width = input_ids.dims[1];
const ids = input_ids.tolist().map((row) => row.map(Number));
const mask = attention_mask.tolist().map((row) => row.map(Number));
let mismatches = 0;
for (let r = 0; r < texts.length; r++) {
  const expectedIds = [...trained[r], ...Array(width - trained[r].length).fill(config.pad_token_id)];
  const expectedMask = [...Array(trained[r].length).fill(1), ...Array(width - trained[r].length).fill(0)];
  if (JSON.stringify(ids[r]) !== JSON.stringify(expectedIds) || JSON.stringify(mask[r]) !== JSON.stringify(expectedMask)) {
    mismatches++;
    if (mismatches <= 3) console.log(`row ${r}: transformers.js ${JSON.stringify(ids[r])} / ${JSON.stringify(mask[r])}\n  training ${JSON.stringify(expectedIds)}`);
  }
}
const cut = trained.filter((row) => row.length === tokenizer.model_max_length).length;
console.log(`${texts.length - mismatches} of ${texts.length} rows equal (ids and mask, padded to ${width}; ${cut} rows at the cut length)`);
process.exit(mismatches === 0 ? 0 : 1);
