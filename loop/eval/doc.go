// Package eval scores a candidate model's outputs offline: text metrics
// against reference outputs (exact match, token F1, ROUGE-L, corpus BLEU-4,
// WER and CER), the assertions of red-flag set entries, and a report by task
// and user segment next to the current model's baseline.
//
// Everything here is pure: readers take an io.Reader, nothing touches files
// or the network, and every function is deterministic.
//
// # Text normalisation
//
// All word-level metrics share one tokenizer, [Tokenize]: text is lowercased
// and split into maximal runs of Unicode letters, digits and combining marks;
// everything else (spaces, punctuation, symbols) separates tokens and is
// dropped. Han, Hiragana and Katakana characters are one token each, since
// those scripts do not separate words with spaces. So "Don't panic!" is
// ["don", "t", "panic"], matching the rouge-score package's default
// tokenizer on ASCII text.
//
// # Metric conventions
//
//   - ExactMatch compares after lowercasing and collapsing whitespace; nothing
//     else is removed.
//   - TokenF1 is the SQuAD bag-of-tokens F1 (no article removal: the metric
//     has to work in every language).
//   - RougeL is the LCS F-measure with beta = 1 (Lin 2004, as the rouge-score
//     package computes "rougeL": no stemming, no stop-word removal).
//   - BLEU is corpus BLEU-4 (Papineni et al. 2002) with uniform weights, the
//     brevity penalty over the corpus, and smoothing method 1 of Chen & Cherry
//     (2014): an n-gram order with no match gets epsilon = 0.1 matches, as in
//     NLTK's SmoothingFunction().method1.
//   - WER and CER are Levenshtein distances (words / characters) divided by
//     the reference length. With an empty reference they are the number of
//     inserted words or characters (0 when both are empty), as jiwer >= 4.0
//     defines them. In aggregates they are micro-averaged: total edits over
//     total reference length.
package eval
