"""Near-copies among many texts (XY04's index): found without comparing every pair."""

from __future__ import annotations

import difflib
import random

from nianbao.nearcopy import first_copies

SENTENCES = [
    "本机关认真贯彻落实政府信息公开条例",
    "坚持以公开为常态、不公开为例外",
    "全年通过门户网站主动公开政府信息{n}条",
    "发布政策解读{n}篇，回应社会关切{n}次",
    "组织业务培训{n}场，提升工作人员依法公开的能力",
    "完善依申请公开办理流程，做到依法按时答复",
    "加强政务新媒体管理，扩大公开覆盖面",
    "推进基层政务公开标准化规范化建设",
    "严格落实公开前保密审查制度",
    "存在公开内容不够全面、解读形式较为单一等问题",
    "下一步将进一步健全工作机制，强化督促检查",
    "围绕重点领域信息公开持续用力",
]


def _texts(count: int, copies: int, seed: int) -> tuple[list[str], dict[int, int]]:
    """Texts written from one pool of template sentences (as units do), and some copies of an
    earlier text with its figures changed and a few characters edited."""
    rng = random.Random(seed)
    texts: list[str] = []
    copied: dict[int, int] = {}
    for j in range(count):
        if j >= 20 and len(copied) < copies and rng.random() < copies / count * 1.5:
            i = rng.randrange(j)
            text = texts[i]
            for old in {s for s in text.split("，") if any(ch.isdigit() for ch in s)}:
                text = text.replace(old, "".join(str(rng.randrange(10)) if ch.isdigit() else ch for ch in old))
            texts.append(text.replace("本机关", "本单位", 1))
            copied[j] = i
            continue
        chosen = rng.sample(SENTENCES, 6)
        texts.append("。".join(s.format(n=rng.randrange(1, 2000)) for s in chosen) + f"。第{j}号单位特有的说明。")
    return texts, copied


def _ratio(texts: list[str], calls: list[int]):  # type: ignore[no-untyped-def]
    def ratio(i: int, j: int) -> float:
        calls[0] += 1
        return difflib.SequenceMatcher(None, texts[i], texts[j], autojunk=False).ratio()

    return ratio


def test_every_copy_found_with_few_comparisons() -> None:
    texts, copied = _texts(400, 40, seed=1)
    truth = {
        j
        for j in range(len(texts))
        if any(difflib.SequenceMatcher(None, texts[i], texts[j], autojunk=False).ratio() >= 0.9 for i in range(j))
    }
    assert len(truth & set(copied)) >= 30  # most planted copies stay 90 % alike after their edits
    calls = [0]
    found = first_copies(texts, _ratio(texts, calls), 0.9)
    assert set(found) == truth
    assert all(ratio >= 0.9 for _, ratio in found.values())
    assert calls[0] <= 12 * len(texts)  # every pair would be 79,800 comparisons


def test_comparisons_grow_with_the_texts_not_their_pairs() -> None:
    counts = []
    for size in (300, 1200):
        texts, _ = _texts(size, size // 10, seed=2)
        calls = [0]
        first_copies(texts, _ratio(texts, calls), 0.9)
        counts.append(calls[0])
    assert counts[1] <= 4 * counts[0] * 1.3  # four times the texts: about four times the work, not sixteen
