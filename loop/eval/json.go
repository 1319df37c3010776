package eval

import "encoding/json"

// metricsJSON is Metrics as JSON: a metric without data (NoData) is null,
// not -1, so a script cannot mistake it for a score.
type metricsJSON struct {
	N              int      `json:"n"`
	NReference     int      `json:"n_reference"`
	NTranscription int      `json:"n_transcription"`
	NAssertions    int      `json:"n_assertions"`
	Exact          *float64 `json:"exact"`
	F1             *float64 `json:"f1"`
	RougeL         *float64 `json:"rouge_l"`
	BLEU           *float64 `json:"bleu"`
	WER            *float64 `json:"wer"`
	CER            *float64 `json:"cer"`
	Assertions     *float64 `json:"assertions"`
}

func orNull(v float64) *float64 {
	if v == NoData {
		return nil
	}
	return &v
}

func orNoData(p *float64) float64 {
	if p == nil {
		return NoData
	}
	return *p
}

// MarshalJSON writes NoData as null.
func (m Metrics) MarshalJSON() ([]byte, error) {
	return json.Marshal(metricsJSON{m.N, m.NReference, m.NTranscription, m.NAssertions,
		orNull(m.Exact), orNull(m.F1), orNull(m.RougeL), orNull(m.BLEU), orNull(m.WER), orNull(m.CER), orNull(m.Assertions)})
}

// UnmarshalJSON reads null as NoData.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var j metricsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*m = Metrics{j.N, j.NReference, j.NTranscription, j.NAssertions,
		orNoData(j.Exact), orNoData(j.F1), orNoData(j.RougeL), orNoData(j.BLEU), orNoData(j.WER), orNoData(j.CER), orNoData(j.Assertions)}
	return nil
}
