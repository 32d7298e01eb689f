"""ModelOutput: attribute, key and index access like transformers' ModelOutput."""

import pytest
from ember.text.models.outputs import CausalLMOutputWithCrossAttentions


def test_access_by_attribute_key_and_index():
    out = CausalLMOutputWithCrossAttentions(logits="L", past_key_values="P")
    assert out.logits == out["logits"] == out[0] == "L"
    assert out[1] == "P" and out.to_tuple() == ("L", "P")
    assert list(out.keys()) == ["logits", "past_key_values"] and len(out) == 2
    assert "loss" not in out and "logits" in out
    with pytest.raises(KeyError):
        out["loss"]
    out["loss"] = "X"
    assert out[0] == "X" and out.loss == "X"
    logits, past = CausalLMOutputWithCrossAttentions(logits=1, past_key_values=2).to_tuple()
    assert (logits, past) == (1, 2)
    assert dict(out.items())["logits"] == "L"
