package filter

import (
	"math/rand/v2"
	"strings"
)

// synth builds n realistic items in memory: the four worked examples'
// kinds of text, ~10 models, 3 segments, a few locales and reason codes.
func synth(n int, seed uint64) []Item {
	r := rand.New(rand.NewPCG(seed, 1))
	models := []string{"sum-v1", "sum-v2", "sum-v3", "rec-2024.1", "rec-2024.2", "support-agent-7b", "support-agent-13b", "asr-large", "asr-large-v2", "asr-small"}
	segments := []string{"free", "pro", "enterprise"}
	tasks := []string{"summarization", "recommendation", "support", "transcription", "qa"}
	locales := []string{"en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "ja-JP"}
	reasons := []string{"factual_error", "missing_info", "too_long", "wrong_tone", "unsafe", "formatting", "irrelevant", "mistranscription"}
	openers := [][]string{
		{"Summarize the attached", "Give me a short summary of the", "TL;DR of this", "Condense the following"},
		{"Recommend", "Suggest", "Show me", "Find"},
		{"My order", "I was charged twice for", "How do I cancel", "Why is my invoice", "The app keeps crashing when I open"},
		{"Transcribe the voicemail from", "Meeting recording:", "Call with", "Dictation:"},
	}
	objects := []string{"quarterly earnings report", "board meeting notes", "customer contract renewal", "running shoes under $120",
		"a waterproof hiking jacket", "subscription for the pro plan", "refund for order 48213", "delivery that arrived late",
		"invoice INV-2291 from last month", "password reset email", "the onboarding checklist", "product roadmap for Q3",
		"noisy cafe background", "patient intake call", "the sales pipeline review", "kitchen knives set"}
	tails := []string{"please keep it brief", "it was supposed to arrive on Tuesday", "with the key numbers and risks",
		"in under 200 words", "for a beginner runner", "I have been waiting for two weeks", "and flag anything unusual",
		"the speaker has a strong accent", "thanks in advance", "as bullet points", "compared to last year",
		"without the legal boilerplate", "my account email is [EMAIL]", "call me back at [PHONE]"}
	items := make([]Item, n)
	for i := range items {
		k := r.IntN(4)
		var b strings.Builder
		for b.Len() < 90 {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(openers[k][r.IntN(len(openers[k]))])
			b.WriteByte(' ')
			b.WriteString(objects[r.IntN(len(objects))])
			b.WriteByte(' ')
			b.WriteString(tails[r.IntN(len(tails))])
		}
		text := b.String()
		if len(text) > 120 {
			text = text[:120]
		}
		it := Item{
			Text:    text,
			Model:   models[r.IntN(len(models))],
			Segment: segments[r.IntN(len(segments))],
			Task:    tasks[min(k, len(tasks)-1)],
			Locale:  locales[r.IntN(len(locales))],
		}
		switch r.IntN(3) {
		case 0:
			it.Thumb = "up"
		case 1:
			it.Thumb = "down"
			for j := r.IntN(3); j > 0; j-- {
				it.Reasons = append(it.Reasons, reasons[r.IntN(len(reasons))])
			}
		}
		items[i] = it
	}
	return items
}

func buildItems(items []Item) *Index {
	return Build(len(items), func(i int) Item { return items[i] })
}
