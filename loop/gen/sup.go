package gen

// Customer support agent: a customer's message in, the agent's reply out,
// with resolution, escalation, CSAT, turns and policy checks.

type supLocal struct{ user, good tmpl }

type supCase struct {
	kb    string
	order bool
	user  []tmpl
	good  tmpl
	wrong tmpl // a factually wrong reply
	local [nLocales]*supLocal
}

func sl(user, good string) *supLocal { return &supLocal{parseT(user), parseT(good)} }

var supCases = []*supCase{
	{kb: "billing-duplicate-charge",
		user: tmpls("I was charged twice for my {plan} subscription this month ({price} each). Can you refund one of them?",
			"Why do I see two charges of {price} on {date}? I only have one {plan} plan."),
		good:  parseT("Sorry about that! I can see two charges of {price} on {date}. I've refunded the duplicate, and it should appear on your statement within 5–10 business days."),
		wrong: parseT("I've checked your account and there is only one charge of {price}, so no refund is needed. The second line is a temporary authorisation that disappears after 90 days."),
		local: [nLocales]*supLocal{
			deDE: sl("Mir wurde mein {plan}-Abo diesen Monat zweimal berechnet ({price}). Können Sie eine Abbuchung erstatten?",
				"Das tut mir leid! Ich sehe zwei Abbuchungen über {price} am {date}. Die doppelte Zahlung habe ich erstattet; sie erscheint in 5–10 Werktagen auf Ihrem Konto."),
			frFR: sl("J'ai été débité deux fois pour mon abonnement {plan} ce mois-ci ({price}). Pouvez-vous rembourser un des paiements ?",
				"Désolé pour ce désagrément ! Je vois deux paiements de {price} le {date}. J'ai remboursé le doublon, il apparaîtra sur votre relevé sous 5 à 10 jours ouvrés."),
			esES: sl("Me habéis cobrado dos veces la suscripción {plan} este mes ({price}). ¿Podéis devolverme uno de los cargos?",
				"¡Disculpa las molestias! Veo dos cargos de {price} el {date}. He reembolsado el duplicado; lo verás en tu extracto en 5–10 días hábiles."),
			ptBR: sl("Fui cobrado duas vezes pela assinatura {plan} este mês ({price}). Podem estornar uma das cobranças?",
				"Sinto muito pelo transtorno! Vejo duas cobranças de {price} em {date}. Já estornei a duplicada; ela aparece na sua fatura em 5 a 10 dias úteis."),
			jaJP: sl("今月、{plan}プランの料金（{price}）が二重に請求されています。片方を返金してもらえますか？",
				"ご不便をおかけして申し訳ありません。{date}に{price}の請求が2件確認できました。重複分を返金しましたので、5〜10営業日以内に明細に反映されます。"),
		}},
	{kb: "returns-damaged-item", order: true,
		user: tmpls("I'd like a refund for order {order}, it arrived damaged.",
			"Order {order} came with a cracked screen. I want my money back."),
		good:  parseT("I'm sorry the item arrived damaged. Order {order} is within our 30-day return window, so I've started a refund of {price}. You'll receive a prepaid return label by email."),
		wrong: parseT("Unfortunately order {order} is outside our 7-day return window, so it isn't eligible for a refund."),
	},
	{kb: "shipping-delays", order: true,
		user: tmpls("Where is my package? Order {order} was supposed to arrive on {date}.",
			"My order {order} still hasn't shipped and it's been {small} days."),
		good:  parseT("Thanks for your patience. Order {order} is with the carrier and is delayed at the regional hub; the new estimated delivery date is {date2}. I've asked the carrier to prioritise it."),
		wrong: parseT("Order {order} was delivered on {date} and signed for at your front door, so it can't be lost."),
		local: [nLocales]*supLocal{
			deDE: sl("Wo ist mein Paket? Bestellung {order} sollte am {date} ankommen.",
				"Danke für Ihre Geduld. Bestellung {order} ist beim Versanddienstleister und verzögert sich im Verteilzentrum; neuer voraussichtlicher Liefertermin ist der {date2}."),
			frFR: sl("Où est mon colis ? La commande {order} devait arriver le {date}.",
				"Merci de votre patience. La commande {order} est chez le transporteur et a pris du retard au centre de tri ; nouvelle date de livraison estimée : {date2}."),
			esES: sl("¿Dónde está mi paquete? El pedido {order} tenía que llegar el {date}.",
				"Gracias por tu paciencia. El pedido {order} está con el transportista y se ha retrasado en el centro logístico; la nueva fecha estimada es el {date2}."),
			ptBR: sl("Cadê meu pacote? O pedido {order} deveria chegar em {date}.",
				"Obrigado pela paciência. O pedido {order} está com a transportadora e atrasou no centro de distribuição; a nova previsão de entrega é {date2}."),
			jaJP: sl("注文{order}が{date}に届く予定でしたが、まだ届きません。",
				"お待たせして申し訳ありません。注文{order}は配送業者の拠点で遅延しています。新しいお届け予定日は{date2}です。"),
		}},
	{kb: "login-two-factor",
		user: tmpls("I can't log in, the 2FA code never arrives on my new phone.",
			"Locked out of my account after changing phones. Help!"),
		good:  parseT("Let's get you back in. I've sent a recovery link to the email address on file; after signing in, go to Settings > Security to register your new phone. For your safety we can't disable two-factor authentication over chat."),
		wrong: parseT("Two-factor codes are only sent by email, so please check your spam folder; SMS codes were discontinued last year."),
		local: [nLocales]*supLocal{
			deDE: sl("Ich komme nicht mehr in mein Konto, der 2FA-Code kommt auf meinem neuen Handy nicht an.",
				"Ich habe Ihnen einen Wiederherstellungslink an die hinterlegte E-Mail-Adresse geschickt. Danach können Sie unter Einstellungen > Sicherheit Ihr neues Handy registrieren."),
			frFR: sl("Je n'arrive plus à me connecter, le code 2FA n'arrive pas sur mon nouveau téléphone.",
				"Je vous ai envoyé un lien de récupération à l'adresse e-mail enregistrée. Ensuite, allez dans Paramètres > Sécurité pour enregistrer votre nouveau téléphone."),
			esES: sl("No puedo iniciar sesión, el código 2FA no llega a mi móvil nuevo.",
				"Te he enviado un enlace de recuperación al correo registrado. Después, ve a Ajustes > Seguridad para registrar tu nuevo móvil."),
			ptBR: sl("Não consigo entrar, o código 2FA não chega no meu celular novo.",
				"Enviei um link de recuperação para o e-mail cadastrado. Depois, acesse Configurações > Segurança para cadastrar o celular novo."),
			jaJP: sl("新しいスマホに2段階認証のコードが届かず、ログインできません。",
				"登録済みのメールアドレスに復旧用リンクをお送りしました。ログイン後、設定 > セキュリティから新しい端末を登録してください。"),
		}},
	{kb: "cancel-subscription",
		user: tmpls("How do I cancel my {plan} plan? I don't want to be charged again on {date}.",
			"Please cancel my subscription before the next renewal."),
		good:  parseT("You can cancel anytime under Account > Billing > Cancel plan. Your {plan} features stay active until {date}, and you won't be charged again."),
		wrong: parseT("Plans can only be cancelled by phone, and a cancellation fee of {price} applies."),
		local: [nLocales]*supLocal{
			deDE: sl("Wie kündige ich meinen {plan}-Tarif? Ich möchte am {date} nicht erneut belastet werden.",
				"Sie können jederzeit unter Konto > Abrechnung > Tarif kündigen. Ihre {plan}-Funktionen bleiben bis zum {date} aktiv, danach erfolgt keine weitere Abbuchung."),
			frFR: sl("Comment résilier mon forfait {plan} ? Je ne veux pas être prélevé le {date}.",
				"Vous pouvez résilier à tout moment dans Compte > Facturation > Résilier. Les fonctionnalités {plan} restent actives jusqu'au {date}, sans nouveau prélèvement."),
			esES: sl("¿Cómo cancelo mi plan {plan}? No quiero que me cobren otra vez el {date}.",
				"Puedes cancelar cuando quieras en Cuenta > Facturación > Cancelar plan. Las funciones {plan} siguen activas hasta el {date} y no se te volverá a cobrar."),
			ptBR: sl("Como cancelo meu plano {plan}? Não quero ser cobrado de novo em {date}.",
				"Você pode cancelar a qualquer momento em Conta > Cobrança > Cancelar plano. Os recursos do {plan} continuam ativos até {date}, sem novas cobranças."),
			jaJP: sl("{plan}プランを解約するにはどうすればいいですか？{date}にまた請求されたくありません。",
				"アカウント > 請求 > プランを解約 からいつでも解約できます。{plan}の機能は{date}までご利用いただけ、以降の請求はありません。"),
		}},
	{kb: "known-issue-csv-export",
		user: tmpls("The export to CSV button does nothing since the last update (v{ver}).",
			"After updating to {ver}, CSV exports are empty."),
		good:  parseT("Thanks for reporting this. It's a known issue in version {ver} that affects CSV exports, and a fix ships this week. Until then you can export via Reports > Download as Excel."),
		wrong: parseT("CSV export was removed in version {ver}; please use the API instead."),
	},
	{kb: "invoices-vat",
		user:  tmpls("We need the invoice for {month} to include our VAT number. Can you reissue it?"),
		good:  parseT("Of course. I've reissued the invoice for {month} with your VAT number; you can download it under Billing > Invoices. The original has been voided."),
		wrong: parseT("Invoices can't be changed once they are issued, so we can't add a VAT number."),
	},
	{kb: "account-deletion",
		user: tmpls("Please delete my account and all my data.",
			"I want you to erase everything you store about me (GDPR request)."),
		good:  parseT("I've submitted a deletion request for your account. Your data will be permanently removed within 30 days, and you'll get a confirmation email when it's done."),
		wrong: parseT("Deleted accounts are kept for 7 years for legal reasons, so your data can't be removed."),
	},
	{kb: "plans-sso",
		user:  tmpls("Does the Pro plan include SSO for our team of {small}?"),
		good:  parseT("SSO is included in the Enterprise plan; Pro supports Google and Microsoft sign-in only. For a team of {small}, I can set up a 14-day Enterprise trial if that helps."),
		wrong: parseT("Yes, all plans including Free come with SAML SSO at no extra cost."),
	},
}

var (
	supGreetings = []string{"", "", "Hi, ", "Hello, ", "Hey there. ", "Good morning, "}
	supSignoffs  = tmpls("", "", " Thanks.", " Thanks, {name}", " This is really urgent!!", " Regards, {name}")
	supMissing   = []string{"Thanks for reaching out! I've forwarded your request to the relevant team.",
		"I understand your concern. Is there anything else I can help you with?",
		"Please check our help center for more information."}
	supTone = []string{"As clearly explained in our FAQ, which you could have read yourself, ", "Like I already said, ",
		"Not sure why this is so hard, but "}
	supUnsafe = tmpls("To verify your identity, please reply with your full card number, the expiry date and the 3-digit security code.",
		"No problem, I've turned off two-factor authentication on your account and reset your password to {temp}. You can log in right away.",
		"If the bank won't refund you, just file a chargeback and say the card was stolen, that usually works.")
	supBoilerplate = " We truly value you as a customer and appreciate your patience while we look into this. Please note that response times may vary during busy periods, and that our team works hard to answer every request in the order it was received. If you have any further questions, do not hesitate to reach out again at any time, and remember that our help center contains hundreds of articles covering the most common topics."
	supDetails     = []string{"I already tried logging out and back in.", "This is the second time this has happened.",
		"I've been a customer for years and this is really frustrating.", "I checked the help center but couldn't find anything.",
		"My colleague has the same problem.", "I need this sorted before the end of the week."}
	plans      = []string{"Pro", "Team", "Plus", "Business"}
	firstNames = []string{"Maria", "James", "Priya", "Lukas", "Sophie", "Diego", "Yuki", "Ana", "Tom", "Elena",
		"Sam", "Hannah", "Kenji", "Claire", "Rafael", "Olivia"}
)

var supMissingLocal = [nLocales]string{
	deDE: "Danke für Ihre Nachricht! Ich habe Ihr Anliegen an das zuständige Team weitergeleitet.",
	frFR: "Merci pour votre message ! J'ai transmis votre demande à l'équipe concernée.",
	esES: "¡Gracias por escribirnos! He enviado tu solicitud al equipo correspondiente.",
	ptBR: "Obrigado pelo contato! Encaminhei sua solicitação para a equipe responsável.",
	jaJP: "お問い合わせありがとうございます。担当チームに転送しました。",
}

var supToneLocal = [nLocales]string{
	deDE: "Das steht alles in unserer Hilfe. Bitte lesen Sie die, bevor Sie uns schreiben.",
	frFR: "Tout est expliqué dans notre FAQ. Merci de la lire avant de nous contacter.",
	esES: "Todo está explicado en las preguntas frecuentes. Léelas antes de escribirnos.",
	ptBR: "Está tudo explicado no nosso FAQ. Leia antes de entrar em contato.",
	jaJP: "よくある質問に書いてあります。問い合わせる前に読んでください。",
}

var (
	supReasonCum      = cumulative(18, 28, 10, 18, 8, 6, 12, 0)
	supReasonLocalCum = cumulative(0, 40, 0, 30, 10, 0, 20, 0)
)

func (g *generator) support(e *event) {
	r, f := &g.r, &g.f
	ci := r.intn(len(supCases))
	c := supCases[ci]
	lc := (*supLocal)(nil)
	if e.loc >= deDE && r.chance(0.65) {
		lc = c.local[e.loc]
	}
	local := lc != nil
	fmtLoc := e.loc
	if !local && e.loc >= deDE {
		fmtLoc = enUS
	}
	f[sOrder] = appendPadded(append(f[sOrder][:0], "ORD-"...), r.between(100000, 999999), 6)
	f.set(sPlan, pick(r, plans))
	f[sPrice] = appendMoney(f[sPrice][:0], fmtLoc, 100*pickInt(r, 9, 12, 19, 29, 49, 99, 149)+pickInt(r, 0, 99), false)
	f[sDate] = appendDate(f[sDate][:0], fmtLoc, 2026, r.between(10, 12), r.between(1, 28))
	f[sDate2] = appendDate(f[sDate2][:0], fmtLoc, 2026, 12, r.between(1, 20))
	f[sVer] = appendPadded(f[sVer][:0], r.between(3, 5), 1)
	f[sVer] = append(f[sVer], '.')
	f[sVer] = appendPadded(f[sVer], r.between(0, 20), 1)
	f[sVer] = append(f[sVer], '.')
	f[sVer] = appendPadded(f[sVer], r.between(0, 9), 1)
	f.set(sMonth, monthsEN[r.between(6, 9)])
	f[sSmall] = appendPadded(f[sSmall][:0], r.between(3, 40), 1)
	f[sTemp] = appendPadded(append(f[sTemp][:0], "Welcome#"...), r.between(1000, 9999), 4)
	f.set(sName, pick(r, firstNames))

	in := e.in[:0]
	if local {
		in = render(in, lc.user, f)
	} else {
		in = append(in, pick(r, supGreetings)...)
		n := len(in)
		in = render(in, pick(r, c.user), f)
		if n > 0 && in[n-2] == ',' {
			lowerFirst(in[n:])
		}
		if r.chance(0.4) {
			in = append(in, ' ')
			in = append(in, pick(r, supDetails)...)
		}
		in = render(in, pick(r, supSignoffs), f)
	}
	e.in = in
	ref := e.ref("kb:")
	*ref = append(*ref, c.kb...)
	if c.order {
		ref = e.ref("order:")
		*ref = append(*ref, f[sOrder]...)
	}
	ref = e.ref("conv:c-")
	*ref = appendHex(*ref, r.next(), 10)

	var code int8 = -1
	if e.bad {
		if local {
			code = int8(r.pickW(supReasonLocalCum))
		} else {
			code = int8(r.pickW(supReasonCum))
		}
		e.addReason(code)
		if r.chance(0.12) {
			e.addReason(pick(r, []int8{rMissing, rTone, rTooLong}))
		}
	}
	out := e.out[:0]
	good := func(b []byte) []byte {
		if local {
			return render(b, lc.good, f)
		}
		return render(b, c.good, f)
	}
	switch code {
	case -1:
		out = good(out)
	case rFactual:
		out = render(out, c.wrong, f)
	case rMissing:
		if local {
			out = append(out, supMissingLocal[e.loc]...)
		} else {
			out = append(out, pick(r, supMissing)...)
		}
	case rTone:
		if local {
			out = append(out, supToneLocal[e.loc]...)
		} else {
			out = append(out, pick(r, supTone)...)
			n := len(out)
			out = good(out)
			lowerFirst(out[n:])
		}
	case rIrrelevant:
		other := supCases[(ci+1+r.intn(len(supCases)-1))%len(supCases)]
		out = render(out, other.good, f)
	case rTooLong:
		out = good(out)
		out = append(out, supBoilerplate...)
	case rUnsafe:
		out = render(out, pick(r, supUnsafe), f)
	case rFormatting:
		out = append(out, "<p>"...)
		out = good(out)
		out = append(out, `</p><br/><br/><a href="{{kb_link}}">Click here</a> &nbsp;`...)
	}
	e.out = out
	g.reasonText(e, code, local, false)

	m := e.model
	if e.bad {
		e.turns = r.between(2, 12)
		e.resolved = triOf(r.chance(0.28))
		e.escalated = triOf(r.chance(m.escal))
		e.retries = pickInt(r, 0, 1, 1, 2, 3)
		e.abandoned = triOf(e.escalated == no && r.chance(0.25))
	} else {
		e.turns = r.between(1, 4)
		e.resolved = triOf(r.chance(m.resolve))
		e.escalated = triOf(r.chance(0.04))
		e.retries = pickInt(r, 0, 0, 0, 0, 1)
		e.abandoned = triOf(r.chance(0.03))
	}
	if r.chance(0.7) {
		e.rating = g.rating(e.bad)
	}
	e.dwell = r.lognormal(25000*float64(e.turns), 0.5)
	e.latency = r.lognormal(m.latMed, m.latSigma)
	e.conf = r.uniform(0.6, 0.99)
	e.cost = float64(len(e.in)+len(e.out)+1200) / 4 * 2.5 / 1e6
	if e.resolved == yes {
		e.tts = float64(e.turns) * r.uniform(40000, 120000)
	}
	e.bcost = e.cost * float64(e.turns)
	if e.escalated == yes {
		e.bcost += 4.2
	}
	e.tox = r.uniform(0.002, 0.05)
	e.hall = clamp(m.hall+r.uniform(-0.06, 0.08), 0.01, 1)
	e.policy = triOf(r.chance(0.005))
	switch code {
	case rFactual:
		e.hall = r.uniform(0.4, 0.9)
	case rTone:
		e.tox = r.uniform(0.15, 0.45)
	case rUnsafe:
		e.tox = r.uniform(0.2, 0.6)
		e.policy = yes
	}
}

// lowerFirst lowercases a leading capital that starts an ordinary word
// ("Of course" → "of course", but not "I'm" or "SSO").
func lowerFirst(b []byte) {
	if len(b) > 1 && b[0] >= 'A' && b[0] <= 'Z' && b[1] >= 'a' && b[1] <= 'z' {
		b[0] += 'a' - 'A'
	}
}
