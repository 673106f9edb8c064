"""Grounded outputs, in the order the data flows: plan, evidence, prompts, generate, verify,
fill, the result; then ask, summarise and digest, which use them."""
