"The toy LM's web (issue 21, item 1) and its copy probe, on the smoke world."
import random
import pytest
import torch

from musechat.toy_lm import ToyWeb, WEB_KINDS, probe_tracks, names_it, copy_probe, made_up_track, COPY_PROMPT


@pytest.fixture(scope='module')
def rows():
    from musechat.world import build_world
    from musechat.manifest import load_manifest
    from musechat.tagging import dialogue_rows
    world = build_world('smoke', progress=False)
    return dialogue_rows('smoke', world, load_manifest(world), progress=False)


def test_web_reads_train_tracks_only(rows):
    with pytest.raises(ValueError, match='train tracks only'):
        ToyWeb(rows, 10, {'told': 1})
    train = [r for r in rows if r['split'] == 'train']
    test = [r for r in rows if r['split'] == 'test']
    web = ToyWeb(train, 4000, {k: 1 for k in WEB_KINDS})
    texts = [web.text(i) for i in range(4000)]
    assert texts[:50] == [web.text(i) for i in range(50)]             # text i is the same on every call
    assert {web.kind(i)[0] for i in range(4000)} == set(WEB_KINDS)
    sample = '\n'.join(texts)
    assert not [t['title'] for t in probe_tracks(200) if t['title'] in sample]
    train_titles = {r['title'] for r in train}
    for t in sorted(train_titles, key=len, reverse=True): sample = sample.replace(t, '\n')   # a test title can be a train title's tail
    test_titles = {r['title'] for r in test} - train_titles
    assert test_titles and not [t for t in test_titles if t in sample]
    told = [t for i, t in enumerate(texts) if web.kind(i)[0] == 'told']
    assert told and all(any(r['title'] in t for r in train) for t in told)      # a told text carries a train title


class _Scripted(torch.nn.Module):
    "A stand-in LM whose greedy continuation is a fixed text per prompt: tests the probe's measuring, not learning."
    def __init__(self, tokenizer, answers):
        super().__init__(); self.w = torch.nn.Parameter(torch.zeros(1)); self.tok, self.answers = tokenizer, answers
    def generate(self, input_ids, attention_mask, max_new_tokens, **kw):
        new = [self.tok(' ' + a, add_special_tokens=False)['input_ids'][:max_new_tokens] for a in self.answers]
        n = max(map(len, new))
        new = torch.tensor([x + [self.tok.pad_token_id] * (n - len(x)) for x in new])
        return torch.cat([input_ids, new], 1)


def test_copy_probe_counts_what_is_named():
    from musechat.generator import train_lm_tokenizer, reference_names
    from musechat.simulator import music_reference
    tracks = probe_tracks(6)
    tok = train_lm_tokenizer([COPY_PROMPT.format(title=t['title']) + ' ' + music_reference(t) for t in tracks] * 4, vocab_size=400)
    right = [f"{music_reference(t)}. It's a pop track." for t in tracks]
    wrong = [f"{music_reference(made_up_track(random.Random(i)))}. It's a pop track." for i in range(6)]
    half = right[:3] + wrong[3:]
    assert copy_probe(_Scripted(tok, right), tok, tracks)[0] == 1.0
    assert copy_probe(_Scripted(tok, wrong), tok, tracks)[0] == 0.0
    assert copy_probe(_Scripted(tok, half), tok, tracks)[0] == 0.5
    t = tracks[0]
    assert names_it(' and '.join(reference_names(t)), t) and not names_it('something else', t)
