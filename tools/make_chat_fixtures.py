#!/usr/bin/env python3
"""Golden chat-template renders for Easel's ChatTemplate, made with the real Jinja templates.

Versions used: Python 3.11.7, jinja2 3.1.6, gguf (gguf-py) 0.19.0.

Templates:
  smollm2  `tokenizer.chat_template` read from models/SmolLM2-135M-Instruct.Q4_1.gguf (ChatML with a default system prompt)
  llama2   the chat_template of meta-llama/Llama-2-7b-chat-hf's tokenizer_config.json (public text, below)
  llama3   the chat_template of meta-llama/Meta-Llama-3-8B-Instruct's tokenizer_config.json (public text, below)
Rendered as transformers does (jinja2 ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, raise_exception).

Writes into Tests/LLMTests/Fixtures/chat/:
  <template>.jinja           the template source
  conversations.json         the conversations, and for each template which ones the template refuses
  <template>.<case>.txt      the rendered prompt, byte for byte
Run from the repository root: python3 tools/make_chat_fixtures.py
"""
import json
import os

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

OUT = "Tests/LLMTests/Fixtures/chat"

LLAMA2 = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
)

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)


def smollm2_template():
    from gguf import GGUFReader
    return GGUFReader("models/SmolLM2-135M-Instruct.Q4_1.gguf").fields["tokenizer.chat_template"].contents()


TEMPLATES = {
    "smollm2": (smollm2_template, "<|im_start|>", "<|im_end|>"),
    "llama2": (lambda: LLAMA2, "<s>", "</s>"),
    "llama3": (lambda: LLAMA3, "<|begin_of_text|>", "<|end_of_text|>"),
}


def m(role, content):
    return {"role": role, "content": content}


CASES = {
    "single-user": ([m("user", "Hello!")], True),
    "system-user": ([m("system", "You are a pirate."), m("user", "Where is the treasure?")], True),
    "multi-turn": ([m("system", "Answer briefly."), m("user", "What is 2+2?"), m("assistant", "4."),
                    m("user", "And 3+3?")], True),
    "multi-turn-no-system": ([m("user", "Hi"), m("assistant", "Hello! How can I help?"), m("user", "Tell me a joke.")], True),
    "whitespace": ([m("system", "  Be kind.\n"), m("user", "\n  spaced out  \n"), m("assistant", " ok \x1c"),
                    m("user", "tabs\tinside\t\u3000")], True),
    "no-generation-prompt": ([m("user", "Name a color."), m("assistant", "Blue.")], False),
    "unicode": ([m("user", "Café? 🦙 日本語 — «quotes» e\u0301")], True),
    "empty-content": ([m("user", "")], True),
    "two-users": ([m("user", "One"), m("user", "Two")], True),
    "late-system": ([m("user", "Hi"), m("system", "Be terse."), m("user", "Why?")], True),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

    def raise_exception(message):
        raise TemplateError(message)

    env.globals["raise_exception"] = raise_exception
    refused = {}
    for name, (source, bos, eos) in TEMPLATES.items():
        text = source()
        with open(f"{OUT}/{name}.jinja", "w") as f:
            f.write(text)
        template = env.from_string(text)
        refused[name] = []
        for case, (messages, gen) in CASES.items():
            try:
                out = template.render(messages=messages, add_generation_prompt=gen, bos_token=bos, eos_token=eos)
            except TemplateError:
                refused[name].append(case)
                continue
            with open(f"{OUT}/{name}.{case}.txt", "w", newline="") as f:
                f.write(out)
    with open(f"{OUT}/conversations.json", "w") as f:
        json.dump({"cases": [{"name": c, "messages": msgs, "add_generation_prompt": gen} for c, (msgs, gen) in CASES.items()],
                   "refused": refused}, f, ensure_ascii=False, indent=1)
    print("refused:", refused)


if __name__ == "__main__":
    main()
