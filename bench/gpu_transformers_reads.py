"""Does Hugging Face transformers read a checkpoint this project wrote, and agree with `classify`?

  request RAW.jsonl N REQUEST.json         the last N texts of a raw dataset as a classify request
  compare MODEL_DIR REQUEST.json RESPONSE.json
      loads MODEL_DIR with AutoTokenizer and GPT2ForSequenceClassification.from_pretrained
      (truncation as tokenizer_config.json says), classifies the same texts on the CPU and compares
      token counts, labels and probabilities with what `classify` answered. Prints one JSON object.
"""
import json
import sys


def request(raw, count, out):
    rows = [json.loads(line) for line in open(raw, encoding="utf-8") if line.strip()]
    json.dump({"texts": [row["text"] for row in rows[-count:]]}, open(out, "w", encoding="utf-8"))


def compare(model_dir, request_file, response_file):
    import torch
    from transformers import AutoTokenizer, GPT2ForSequenceClassification
    texts = json.load(open(request_file, encoding="utf-8"))["texts"]
    answers = json.load(open(response_file, encoding="utf-8"))["results"]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = GPT2ForSequenceClassification.from_pretrained(model_dir).eval()
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    worst, same_label, same_tokens, truncated = 0.0, 0, 0, 0
    with torch.no_grad():
        for text, answer in zip(texts, answers):
            encoded = tokenizer(text, truncation=True, return_tensors="pt")
            probabilities = torch.softmax(model(**encoded).logits[0], -1).tolist()
            ours = [answer["probabilities"][label] for label in labels]
            worst = max(worst, max(abs(a - b) for a, b in zip(probabilities, ours)))
            same_label += labels[max(range(len(labels)), key=probabilities.__getitem__)] == answer["label"]
            same_tokens += encoded["input_ids"].shape[1] == answer["tokens"]
            truncated += answer["truncated"]
    print(json.dumps({"transformers_reads": model_dir, "texts": len(texts), "truncated_texts": truncated,
                      "same_label": same_label, "same_token_count": same_tokens,
                      "model_max_length": tokenizer.model_max_length, "truncation_side": tokenizer.truncation_side,
                      "max_abs_probability_difference": worst}))


if __name__ == "__main__":
    if sys.argv[1] == "request":
        request(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        compare(*sys.argv[2:5])
