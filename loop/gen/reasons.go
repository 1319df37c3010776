package gen

// Free-text reasons users type next to a thumb, per task and reason code.
// Detail templates quote the wrong and the right value ({wrong}, {right}).

type reasonBank [nReasons][]tmpl

var reasonEN = [nTasks]reasonBank{
	taskSum: {
		rFactual: tmpls("Some of this is just not true.", "Incorrect figures, please double-check against the source.",
			"The summary contradicts the document.", "Made-up numbers again."),
		rMissing: tmpls("It left out the most important part.", "Doesn't mention the second point at all.",
			"Missing the key details, I had to read the whole thing anyway.", "Incomplete summary."),
		rTooLong: tmpls("Way too long, I wanted two sentences.", "This is almost as long as the original.",
			"Too wordy for a summary.", "Just copied the first paragraph, that's not a summary."),
		rTone: tmpls("Way too casual for something I send to clients.", "Why is it joking about this?",
			"Tone is completely off.", "Unprofessional."),
		rUnsafe: tmpls("It accuses people of things that aren't in the document. We can't send this.",
			"Speculates about criminal conduct, that's a legal risk.", "Defamatory content added out of nowhere."),
		rFormatting: tmpls("Random bullet points and bold text everywhere.", "Formatting is broken when I paste it.",
			"Stray asterisks all over the place."),
		rIrrelevant: tmpls("This is a summary of a different document??", "Has nothing to do with what I uploaded.",
			"Wrong document?"),
	},
	taskRec: {
		rFactual: tmpls("The price shown is wrong, it's more expensive on the product page.",
			"Says in stock but it's sold out.", "Wrong sizes listed."),
		rMissing: tmpls("Everything here is over my budget of {budget}.", "Ignored my budget.",
			"All way too expensive, I said max {budget}."),
		rTooLong: tmpls("Too much text, just show me the products."),
		rFormatting: tmpls("The list is unreadable on mobile.", "Everything is on one line.",
			"Can't tell where one product ends and the next begins."),
		rIrrelevant: tmpls("I asked for {category} and got something else entirely.",
			"None of these match what I searched for.", "Why am I seeing these?", "Not relevant at all."),
	},
	taskSup: {
		rFactual: tmpls("That's not what your website says.", "Wrong information about my plan.",
			"The agent gave me the wrong refund period.", "That setting doesn't exist."),
		rMissing: tmpls("The agent didn't actually answer my question.", "No steps, just 'forwarded to the team'.",
			"Still don't know when my refund arrives.", "Useless, no solution."),
		rTooLong: tmpls("Too long, I just needed a yes or no.", "Wall of text."),
		rTone: tmpls("Rude and condescending.", "I don't need to be told to read the FAQ.",
			"Felt like talking to a wall.", "Very dismissive."),
		rUnsafe: tmpls("It asked for my full card number and CVV in chat. Is this a scam?",
			"The bot turned off my two-factor authentication without checking who I am!",
			"Sent me a password in plain text."),
		rFormatting: tmpls("Reply was full of HTML tags.", "Broken links and weird symbols."),
		rIrrelevant: tmpls("Answered a completely different question.", "I asked about my order, not this.",
			"Copy-pasted answer that has nothing to do with my problem."),
	},
	taskSTT: {
		rMissing:    tmpls("It cut off the last sentence.", "Part of what I said is missing."),
		rFormatting: tmpls("No punctuation or capital letters at all.", "Everything in lowercase, unusable."),
		rMistranscription: tmpls("Got half the words wrong.", "Misheard the names again.",
			"Numbers are wrong.", "Transcript is garbage when there's any background noise."),
	},
}

var detailEN = [nTasks]reasonBank{
	taskSum: {
		rFactual: tmpls("The summary says {wrong} but the document says {right}.",
			"Wrong figure: it's {right}, not {wrong}.", "Where does {wrong} come from? The source says {right}."),
	},
	taskSTT: {
		rMistranscription: tmpls(`It wrote "{wrong}" instead of "{right}".`, `"{wrong}"?? I said "{right}".`,
			`Keeps writing "{wrong}" when I say "{right}".`),
	},
}

var reasonLocal = [nLocales][nReasons][]string{
	deDE: {
		rFactual:          {"Die Zahlen stimmen nicht.", "Das steht so nicht im Dokument."},
		rMissing:          {"Das Wichtigste fehlt.", "Meine Frage wurde nicht beantwortet."},
		rTooLong:          {"Viel zu lang.", "Das ist keine Zusammenfassung, das ist der halbe Text."},
		rTone:             {"Viel zu salopp.", "Unhöflich und herablassend."},
		rUnsafe:           {"Das ist rufschädigend, so können wir das nicht verschicken."},
		rFormatting:       {"Die Formatierung ist kaputt."},
		rIrrelevant:       {"Hat nichts mit meiner Anfrage zu tun.", "Völlig am Thema vorbei."},
		rMistranscription: {"Die Hälfte der Wörter ist falsch.", "Namen wieder falsch verstanden."},
	},
	frFR: {
		rFactual:          {"Les chiffres sont faux.", "Ce n'est pas ce que dit le document."},
		rMissing:          {"L'essentiel manque.", "Ça ne répond pas à ma question."},
		rTooLong:          {"Beaucoup trop long.", "Ce n'est pas un résumé."},
		rTone:             {"Ton beaucoup trop familier.", "Réponse méprisante."},
		rUnsafe:           {"Accusations diffamatoires, impossible à envoyer."},
		rFormatting:       {"La mise en forme est cassée."},
		rIrrelevant:       {"Rien à voir avec ma demande.", "Hors sujet."},
		rMistranscription: {"La moitié des mots sont faux.", "Il ne comprend jamais les noms."},
	},
	esES: {
		rFactual:          {"Las cifras están mal.", "Eso no lo dice el documento."},
		rMissing:          {"Falta lo más importante.", "No responde a mi pregunta."},
		rTooLong:          {"Demasiado largo.", "Esto no es un resumen."},
		rTone:             {"Tono demasiado informal.", "Respuesta borde y condescendiente."},
		rUnsafe:           {"Contiene acusaciones falsas, no podemos enviarlo."},
		rFormatting:       {"El formato está roto."},
		rIrrelevant:       {"No tiene nada que ver con lo que pedí.", "Fuera de tema."},
		rMistranscription: {"La mitad de las palabras están mal.", "Siempre se equivoca con los nombres."},
	},
	ptBR: {
		rFactual:          {"Os números estão errados.", "Não é isso que o documento diz."},
		rMissing:          {"Faltou o mais importante.", "Não respondeu minha pergunta."},
		rTooLong:          {"Longo demais.", "Isso não é um resumo."},
		rTone:             {"Tom informal demais.", "Resposta grosseira."},
		rUnsafe:           {"Tem acusações sem fundamento, não dá para enviar."},
		rFormatting:       {"A formatação está quebrada."},
		rIrrelevant:       {"Nada a ver com o que eu pedi.", "Fora do assunto."},
		rMistranscription: {"Metade das palavras está errada.", "Errou os nomes de novo."},
	},
	jaJP: {
		rFactual:          {"数字が間違っています。", "元の文書と内容が違います。"},
		rMissing:          {"一番大事な点が抜けています。", "質問に答えていません。"},
		rTooLong:          {"長すぎます。", "要約になっていません。"},
		rTone:             {"口調がくだけすぎです。", "失礼な返答でした。"},
		rUnsafe:           {"根拠のない中傷が含まれていて送れません。"},
		rFormatting:       {"書式が崩れています。"},
		rIrrelevant:       {"依頼と関係ない内容です。"},
		rMistranscription: {"半分くらい聞き間違えています。", "名前をまた間違えています。"},
	},
}

var positiveEN = []string{"Great, saved me a lot of time.", "Exactly what I needed.", "Perfect, thanks!",
	"Spot on.", "Clear and concise.", "Helpful."}

var positiveLocal = [nLocales][]string{
	deDE: {"Super, genau das brauchte ich.", "Danke, sehr hilfreich."},
	frFR: {"Parfait, merci !", "Très utile."},
	esES: {"¡Perfecto, gracias!", "Muy útil."},
	ptBR: {"Perfeito, obrigado!", "Ajudou muito."},
	jaJP: {"完璧です、ありがとう！", "とても助かりました。"},
}

// reasonText writes the free-text reason: on ~65% of bad answers (in the
// user's language when they use one), and a short compliment on some good
// ones. detail says that f[sWrong] and f[sRight] hold the error.
func (g *generator) reasonText(e *event, code int8, local, detail bool) {
	r := &g.r
	e.reason = e.reason[:0]
	if code < 0 {
		if !r.chance(0.08) {
			return
		}
		if e.loc >= deDE && (local || r.chance(0.3)) {
			e.reason = append(e.reason, pick(r, positiveLocal[e.loc])...)
		} else {
			e.reason = append(e.reason, pick(r, positiveEN)...)
		}
		return
	}
	if !r.chance(0.65) {
		return
	}
	if e.loc >= deDE && (local || r.chance(0.3)) && len(reasonLocal[e.loc][code]) > 0 && !(detail && r.chance(0.5)) {
		e.reason = append(e.reason, pick(r, reasonLocal[e.loc][code])...)
		return
	}
	if d := detailEN[e.task][code]; detail && len(d) > 0 && r.chance(0.6) {
		e.reason = render(e.reason, pick(r, d), &g.f)
		return
	}
	if p := reasonEN[e.task][code]; len(p) > 0 {
		e.reason = render(e.reason, pick(r, p), &g.f)
	}
}
