"""Models: chat models (llama.cpp in-process, OpenAI-compatible servers), grammar sampling, embedders."""
