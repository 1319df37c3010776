package gen

import "math"

// Speech-to-text correction: the input describes the audio, the output is
// the transcript with mis-hearings that grow with background noise, and the
// user's edit is the corrected transcript.

var sttEN = tmpls(
	"Remind me to call the [dentist|dent is] on [Thursday|thirsty] at [four|for] [thirty|thirteen].",
	"Tell [Sarah|Sera] the [quarterly|quarter Lee] report is [ready|red E] for [review|you view].",
	"Add [oat|oak] milk, [eggs|ex] and [spinach|spin itch] to the shopping list.",
	"The client wants the [proposal|pro pose all] by [Friday|fried egg] [morning|mourning].",
	"[Schedule|Shed jewel] a [meeting|meat ink] with the [design|the sign] team [next|necks] week.",
	"Patient reports [mild|mile] [chest|chess] pain after [exercise|eggs are size], no [fever|fiver].",
	"We [shipped|ship] [forty|fourteen] units to the [Leeds|leads] [warehouse|where house] today.",
	"Please [cancel|counsel] my [two|to] o'clock and move it to [Wednesday|wedding day].",
	"The [invoice|in voice] [number|lumber] is [missing|mixing] from the email [thread|threat].",
	"[Their|There] [flight|fright] lands at [eight|ate] [fifteen|fifty], so [book|look] a taxi.",
	"Let's [meet|meat] at the café near the [station|nation] at [noon|new].",
	"Customer called about a [broken|brokered] [hinge|hen] on the wardrobe door, [order|odor] placed last week.",
	"[Write|Right] down that the [budget|budge it] [increase|in crease] was [approved|a proved] by [Kenji|Ken G].",
	"Pick up the [prescription|subscription] for Mrs [Okafor|OK for] before [six|sticks] pm.",
	"Note for the [board|bored] meeting: [revenue|revenge] is up [eleven|seven] percent.",
)

var sttLocal = [nLocales][]tmpl{
	deDE: tmpls("Erinnere mich daran, am [Donnerstag|Donners Tag] den [Zahnarzt|Zahnersatz] anzurufen.",
		"Bitte [schick|sich] das [Angebot|Angebote] bis [Freitag|frei Tag] an Frau [Keller|Köhler].",
		"Das Meeting mit dem [Vertrieb|Betrieb] ist auf [neun|neu] Uhr verschoben."),
	frFR: tmpls("Rappelle-moi d'appeler le [dentiste|dent triste] [jeudi|je dis] à [quatre|quatorze] heures.",
		"Ajoute du [lait|les] et des [œufs|yeux] à la liste de [courses|cours].",
		"Envoie le [devis|deux vis] au [client|clan] avant [vendredi|vent de lit]."),
	esES: tmpls("Recuérdame llamar al [dentista|de tista] el [jueves|huevos] a las [cuatro|cuarto].",
		"Envía la [propuesta|apuesta] al [cliente|diente] antes del [viernes|vienes].",
		"Compra [pan|van], [leche|lecha] y [huevos|nuevos] para la cena."),
	ptBR: tmpls("Me lembra de ligar para o [dentista|dentro] na [quinta|quina] às [quatro|quarto] horas.",
		"Manda o [contrato|contrário] para o [jurídico|jurássico] até [sexta|cesta].",
		"A [reunião|região] com o [cliente|quente] foi adiada para [segunda|secunda]."),
	jaJP: tmpls("[木曜日|木よう日]の[四時|夜時]に[歯医者|医者]に電話するのを思い出させて。",
		"[会議|開議]の[資料|死霊]を[金曜日|近曜日]までに送ってください。",
		"[牛乳|九乳]と[卵|玉子]を[買い物|飼い物]リストに追加して。"),
}

var (
	sttPlaces = []string{"a car", "a kitchen", "a train station", "an open-plan office", "a busy street",
		"a quiet home office", "a café", "a warehouse floor", "a hospital corridor"}
	sttKinds = []string{"a reminder", "a message to a colleague", "meeting notes", "a shopping list",
		"a clinical note", "a customer call summary"}
	sttLang = [nLocales]string{"English (US)", "English (UK)", "German", "French", "Spanish",
		"Portuguese (Brazil)", "Japanese"}
)

var sttReasonCum = cumulative(0, 7, 0, 0, 0, 8, 0, 85)

func noiseDesc(n float64) string {
	switch {
	case n < 0.2:
		return "Quiet background."
	case n < 0.5:
		return "Some background chatter."
	case n < 0.75:
		return "Loud background noise (traffic)."
	}
	return "Very noisy: wind and passing trucks."
}

func (g *generator) transcribe(e *event) {
	r, f := &g.r, &g.f
	bank := sttEN
	local := e.loc >= deDE && r.chance(0.6)
	if local {
		bank = sttLocal[e.loc]
	}
	sep := " "
	if local && e.loc == jaJP {
		sep = ""
	}
	u := r.float()
	noise := u * math.Sqrt(u) // skewed to quiet recordings, mean 0.4
	e.noise = noise
	// Noisy recordings are worse; the model's base rate holds on average.
	e.bad = r.chance(e.pdown + (noise-0.4)*0.45)

	// Pick 1–3 distinct sentences.
	ns := r.between(1, 3)
	var idx [3]int
	first := r.intn(len(bank))
	step := 1 + r.intn(len(bank)-1)
	alts := 0
	for i := range ns {
		idx[i] = (first + i*step) % len(bank)
		alts += bank[idx[i]].alts()
	}

	secs := r.between(3, 8)*ns + r.intn(6)
	in := e.in[:0]
	in = append(in, "Voice memo, "...)
	in = appendPadded(in, secs, 1)
	in = append(in, " s, recorded in "...)
	in = append(in, pick(r, sttPlaces)...)
	in = append(in, ". "...)
	in = append(in, noiseDesc(noise)...)
	in = append(in, " Language: "...)
	if local {
		in = append(in, sttLang[e.loc]...)
	} else {
		in = append(in, sttLang[min(e.loc, enGB)]...)
	}
	in = append(in, '.')
	if r.chance(0.4) {
		in = append(in, " Dictating "...)
		in = append(in, pick(r, sttKinds)...)
		in = append(in, '.')
	}
	e.in = in
	ref := e.ref("audio:a-")
	*ref = appendHex(*ref, r.next(), 8)
	*ref = append(*ref, ".m4a"...)

	var code int8 = -1
	if e.bad {
		code = int8(r.pickW(sttReasonCum))
		if (code == rMissing && ns < 2) || (code == rFormatting && sep == "") {
			code = rMistranscription
		}
		e.addReason(code)
	}
	n := noisy{p: e.model.sttErr * (0.5 + 1.5*noise), force: -1}
	if code == rMistranscription {
		n.p = clamp(0.08+noise*0.35, 0, 0.6)
		n.force = r.intn(max(alts, 1))
	}
	out := e.out[:0]
	edit := e.edit[:0]
	last := ns
	if code == rMissing {
		last = ns - 1
	}
	for i := range ns {
		if i > 0 {
			edit = append(edit, sep...)
		}
		edit = render(edit, bank[idx[i]], f)
		if i < last {
			if i > 0 {
				out = append(out, sep...)
			}
			out = renderNoisy(out, bank[idx[i]], f, &n, r)
		}
	}
	if code == rFormatting {
		j := 0
		for _, c := range out {
			switch {
			case c == '.' || c == ',' || c == '?' || c == '!' || c == ':':
				continue
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			}
			out[j] = c
			j++
		}
		out = out[:j]
	}
	e.out = out
	keepEdit := false
	if e.bad {
		keepEdit = r.chance(0.6)
	} else {
		keepEdit = n.errs > 0 && r.chance(0.25)
	}
	if keepEdit {
		e.edit = edit
	} else {
		e.edit = edit[:0]
	}
	detail := n.errs > 0
	if detail {
		f.set(sWrong, n.heard)
		f.set(sRight, n.said)
	}
	g.reasonText(e, code, local, detail)

	e.conf = clamp(0.97-0.3*noise-0.07*float64(n.errs)+r.uniform(-0.04, 0.04), 0.05, 0.99)
	e.latency = r.lognormal(e.model.latMed*float64(secs)/15, e.model.latSigma)
	e.cost = float64(secs) * 0.006 / 60
	if r.chance(0.15) {
		e.rating = g.rating(e.bad)
	}
	if e.bad {
		e.copy = triOf(r.chance(0.12))
		e.retries = pickInt(r, 0, 1, 1, 2)
		e.abandoned = triOf(r.chance(0.1))
		e.dwell = r.lognormal(14000, 0.6)
	} else {
		e.copy = triOf(r.chance(0.45))
		e.retries = pickInt(r, 0, 0, 0, 0, 0, 1)
		e.abandoned = triOf(r.chance(0.03))
		e.dwell = r.lognormal(8000, 0.5)
	}
	e.tox = r.uniform(0, 0.02)
}
