package gen

// Document summarizer: the input is a document excerpt built from genre
// templates, the output a two-sentence summary; bad answers are realistic
// failure modes (a wrong figure, a dropped point, a verbose or flippant
// summary, ...) and the user's edit is the corrected summary.

type genre struct {
	folder     string
	title      tmpl
	lead, key  tmpl
	body       []tmpl
	core1      tmpl
	core2      tmpl
	errSlots   []int // facts of the summary a factual error can get wrong
	unsafe     []tmpl
	tonePrefix []string
	toneSuffix []string
}

var companies = []string{"Northwind Logistics", "Helios Grid", "Bramble & Finch", "Quantix Labs",
	"Larkspur Health", "Meridian Freight", "Copperleaf Bank", "Vantage Robotics", "Orchard Foods",
	"Kestrel Aerospace", "Bluefin Analytics", "Solenne Cosmetics", "Ironbridge Capital",
	"Tidewater Energy", "Pinecrest Retail", "Aster Telecom", "Halcyon Insurance", "Redwood Pharma",
	"Nimbus Software", "Galleon Shipping", "Juniper Media", "Stratus Airlines", "Fernhill Dairy",
	"Cobalt Ridge Mining"}

var people = []string{"Maria Okafor", "James Whitfield", "Priya Raman", "Lukas Brandt",
	"Sophie Marchand", "Diego Alvarez", "Yuki Tanaka", "Ana Souza", "Tom Harrington",
	"Elena Petrova", "Samuel Osei", "Hannah Kowalski", "Kenji Mori", "Claire Dubois",
	"Rafael Costa", "Olivia Chen", "Noah Fischer", "Lea Girard", "Mateo Ruiz", "Aiko Sato"}

var cities = []string{"Rotterdam", "Leeds", "Austin", "Lyon", "Porto", "Osaka", "Denver", "Munich",
	"Valencia", "Curitiba", "Toronto", "Manchester", "Seattle", "Bordeaux", "Gothenburg"}

var regions = []string{"EU-West", "US-East", "Asia-Pacific", "Nordics", "Latin America", "UK"}

var products = []string{"Atlas billing platform", "Beacon mobile app", "Harbor analytics suite",
	"Lumen checkout API", "Orbit scheduling service", "Keystone identity service",
	"Pilot fleet tracker", "Cascade data pipeline"}

var courts = []string{"the Delaware Court of Chancery", "the High Court in London",
	"the Ninth Circuit Court of Appeals", "the Paris Commercial Court",
	"the Southern District of New York", "the Amsterdam District Court"}

var genresEN = []*genre{
	{
		folder: "finance",
		title:  parseT("{company} {quarter} results: investor update"),
		lead:   parseT("{company} reported {quarter} revenue of {amount}, up {pct} from a year earlier, as demand for its {product} outpaced the company's own forecast."),
		key:    parseT("Operating margin narrowed to {pct2} because of higher freight and energy costs, which management expects to ease in the second half."),
		body: tmpls(
			"Chief financial officer {person} said the company would keep capital spending flat and prioritise paying down the {amount2} term loan taken on last year.",
			"Headcount grew to {count} employees, with most of the new roles in customer support and field engineering.",
			"The board approved a share buyback of up to {amount2}, to be completed before {date}.",
			"Sales in the {region} region were weaker than expected, which the company attributed to delayed public-sector contracts.",
			"Analysts had expected revenue slightly below the reported figure, and the shares rose in early trading.",
			"{company} reiterated its full-year guidance and said it would update investors on the {product} roadmap on {date2}.",
			"The company disclosed that its largest customer accounted for a significant share of quarterly revenue, a concentration it aims to reduce.",
			"Inventory levels fell for the third consecutive quarter, freeing up working capital for the planned expansion in {city}.",
			"Management flagged currency movements as the main risk to its outlook for the rest of the year.",
			"Forward-looking statements in this update are subject to the risks described in the company's annual report.",
		),
		core1:    parseT("{company} grew {quarter} revenue by {pct} to {amount}, driven by demand for its {product}."),
		core2:    parseT("Operating margin narrowed to {pct2} on higher freight and energy costs."),
		errSlots: []int{sAmount, sPct, sPct2, sQuarter},
		unsafe:   tmpls("People familiar with the matter say {person} is hiding losses from auditors and should be investigated for fraud."),
	},
	{
		folder: "legal",
		title:  parseT("Memorandum: {company} v. {company2}"),
		lead:   parseT("On {date}, {court} ruled that {company2} breached its supply agreement with {company} and must pay damages of {amount}."),
		key:    parseT("The court rejected {company2}'s argument that the delays were caused by force majeure, noting that the contract required written notice within {days} days."),
		body: tmpls(
			"Judge {person} wrote that the notice sent by email was neither timely nor specific enough to satisfy the clause.",
			"The damages award covers lost profits on {count} cancelled orders but excludes the reputational harm {company} had claimed.",
			"{company2} said it was reviewing the decision and has 30 days to file an appeal.",
			"Counsel for {company}, {person2}, said the ruling clarifies how notice provisions should be read in long-term supply contracts.",
			"The agreement, signed in 2021, contains a limitation-of-liability clause capping damages at twice the annual contract value.",
			"The court held that the cap did not apply because the breach was found to be wilful.",
			"Interest on the award accrues at the statutory rate from {date2}.",
			"Both parties were ordered to bear their own legal costs.",
			"The decision may affect several similar disputes pending before the same court.",
			"This memorandum is a summary for internal use and does not constitute legal advice.",
		),
		core1:    parseT("On {date}, {court} found that {company2} breached its supply contract with {company} and awarded {amount} in damages."),
		core2:    parseT("Its force majeure defence failed because it did not give written notice within {days} days."),
		errSlots: []int{sAmount, sDays, sCompany, sDate},
		unsafe:   tmpls("Reading between the lines, {company2}'s managers deliberately sabotaged the deliveries and should face criminal charges."),
	},
	{
		folder: "news",
		title:  parseT("{city} council approves tram extension"),
		lead:   parseT("The {city} city council voted on {date} to approve a {amount} plan to extend the tram network by {count} metres and add two new stops near the hospital district."),
		key:    parseT("Construction is scheduled to begin next spring and last about {small} months, with partial closures on the main ring road."),
		body: tmpls(
			"Council member {person} said the line would cut commuting times for tens of thousands of residents.",
			"Opponents argued that the budget leaves too little for bus services in the outer districts.",
			"The plan is funded partly by a regional grant and partly by a {pct} increase in parking fees.",
			"Local businesses along the route will be eligible for compensation during the works.",
			"A public consultation earlier this year drew more than {count} written responses.",
			"The transport authority will publish a detailed timetable for the closures by {date2}.",
			"Environmental groups welcomed the vote but called for more cycle lanes along the same corridor.",
			"The mayor described the project as the city's largest infrastructure investment in a decade.",
			"Two council members abstained, citing cost overruns on previous projects.",
			"Residents can follow the progress of the works on the city's website and through a weekly newsletter.",
		),
		core1:    parseT("{city} approved a {amount} tram extension that adds two stops near the hospital district."),
		core2:    parseT("Works start next spring and take about {small} months, with partial road closures."),
		errSlots: []int{sAmount, sSmall, sCity},
		unsafe:   tmpls("Council member {person} is rumoured to own land along the route and is probably taking bribes."),
	},
	{
		folder: "hr",
		title:  parseT("Policy update: hybrid work and travel expenses at {company}"),
		lead:   parseT("Starting {date}, employees at {company} may work remotely up to {small} days per month, replacing the previous rule of two days per week."),
		key:    parseT("Travel expenses above {price} now require approval from a department head before booking."),
		body: tmpls(
			"The change follows an internal survey in which {pct} of staff said they wanted more flexibility.",
			"Managers remain responsible for making sure that teams meet in person at least once per quarter.",
			"Home-office equipment can be claimed once, with receipts submitted within {days} days of purchase.",
			"{person}, head of people operations, will host two information sessions next week.",
			"Employees in customer-facing roles are excluded from the remote-work allowance.",
			"The policy will be reviewed after six months based on productivity and engagement data.",
			"Questions should be sent through the HR portal rather than to individual managers.",
			"Existing approved arrangements remain valid until their current end date.",
			"Expenses submitted without the required approval may not be reimbursed.",
			"The updated policy applies to all offices, including the new site in {city}.",
		),
		core1:    parseT("From {date}, {company} staff can work remotely up to {small} days a month."),
		core2:    parseT("Travel costing more than {price} needs a department head's approval first."),
		errSlots: []int{sSmall, sPrice, sDate},
		unsafe:   tmpls("Staff who disagree with the policy should share their colleagues' home addresses with HR so attendance can be checked."),
	},
	{
		folder: "engineering",
		title:  parseT("Incident report: {product} outage"),
		lead:   parseT("On {date}, the {product} was unavailable for {small} hours after a configuration change disabled authentication for requests routed through the {region} data centre."),
		key:    parseT("About {pct} of active customers were affected, and {count} support tickets were opened during the incident."),
		body: tmpls(
			"The change was deployed without a staged rollout because the release pipeline marked it as low risk.",
			"Engineers rolled back the configuration after two failed attempts to patch it in place.",
			"No customer data was lost, but some scheduled jobs ran twice and had to be reconciled by hand.",
			"On-call engineer {person} was paged within four minutes, but escalation to the database team took over an hour.",
			"Status page updates were delayed, which customers cited as their biggest frustration.",
			"The team will add an automated check that blocks configuration changes affecting authentication without review.",
			"Enterprise customers will receive service credits in line with their service-level agreements.",
			"A follow-up review is scheduled for {date2} to confirm that all action items are complete.",
			"Monitoring did not alert because the error rate stayed below the paging threshold for the first twenty minutes.",
			"The incident was declared resolved once error rates in {region} returned to their normal level.",
		),
		core1:    parseT("A configuration change took the {product} down for {small} hours on {date}."),
		core2:    parseT("It affected about {pct} of active customers and led to {count} support tickets."),
		errSlots: []int{sSmall, sPct, sCount},
		unsafe:   tmpls("The outage was obviously caused by {person}'s incompetence, and they should be fired."),
	},
}

var toneEN = struct{ prefix, suffix []string }{
	prefix: []string{"Honestly, long story short: ", "Okay so basically: ", "LOL, here's the gist: ", "Buckle up! "},
	suffix: []string{" Pretty wild, right?", " Anyway, that's the tea.", " Make of that what you will!", " Yikes."},
}

var fillersEN = tmpls(
	"It is important to note that the document contains a number of additional details that may also be relevant depending on the reader's specific needs and context.",
	"In summary, the document discusses several topics, and each of them is described at some length in the sections above and below this point.",
	"Furthermore, it should be mentioned that further information may be available from the relevant parties upon request.",
)

var localGenres = [nLocales]*genre{
	deDE: {
		folder: "finance",
		title:  parseT("Quartalsbericht {company}"),
		lead:   parseT("{company} hat im {quarter} einen Umsatz von {amount} erzielt, ein Plus von {pct} gegenüber dem Vorjahr."),
		key:    parseT("Die operative Marge sank wegen höherer Energie- und Logistikkosten auf {pct2}."),
		body: tmpls(
			"Finanzvorständin {person} kündigte an, die Investitionen stabil zu halten und vorrangig Schulden abzubauen.",
			"Die Zahl der Beschäftigten stieg auf {count}, vor allem im Kundenservice und im technischen Außendienst.",
			"Im Geschäft mit öffentlichen Auftraggebern kam es zu Verzögerungen, was den Umsatz in der Region belastete.",
			"Der Vorstand bestätigte die Prognose für das Gesamtjahr und kündigte ein Aktienrückkaufprogramm an.",
			"Ein Update zur Produktstrategie soll am {date} folgen.",
			"Währungsschwankungen gelten als größtes Risiko für den Ausblick auf das restliche Jahr.",
			"Die Lagerbestände gingen das dritte Quartal in Folge zurück, was Mittel für die Expansion freisetzt.",
			"Analysten hatten mit einem etwas geringeren Umsatz gerechnet; die Aktie legte im frühen Handel zu.",
		),
		core1:      parseT("{company} steigerte den Umsatz im {quarter} um {pct} auf {amount}."),
		core2:      parseT("Die Marge sank wegen höherer Kosten auf {pct2}."),
		errSlots:   []int{sAmount, sPct, sPct2},
		unsafe:     tmpls("Insider behaupten, {person} verschleiere Verluste vor den Prüfern."),
		tonePrefix: []string{"Also, kurz gesagt: ", "Na ja, im Grunde: "},
		toneSuffix: []string{" Krass, oder?", " Tja."},
	},
	frFR: {
		folder: "news",
		title:  parseT("{city} : le conseil municipal adopte l'extension du tramway"),
		lead:   parseT("Le conseil municipal de {city} a approuvé le {date} un plan de {amount} pour prolonger le réseau de tramway et ajouter deux arrêts près du quartier de l'hôpital."),
		key:    parseT("Les travaux doivent commencer au printemps prochain et durer environ {small} mois, avec des fermetures partielles du boulevard périphérique."),
		body: tmpls(
			"L'élue {person} estime que la ligne réduira nettement les temps de trajet de milliers d'habitants.",
			"Les opposants jugent que le budget laisse trop peu de moyens aux bus des quartiers périphériques.",
			"Le projet est financé en partie par une subvention régionale et par une hausse de {pct} des tarifs de stationnement.",
			"Les commerces situés le long du tracé pourront être indemnisés pendant les travaux.",
			"La consultation publique a recueilli plus de {count} contributions écrites.",
			"Les associations environnementales saluent le vote mais réclament davantage de pistes cyclables.",
			"Le maire qualifie le projet de plus gros investissement de la décennie pour la ville.",
			"Deux élus se sont abstenus en invoquant les dépassements de coûts de projets précédents.",
		),
		core1:      parseT("{city} a approuvé une extension du tramway de {amount} avec deux nouveaux arrêts."),
		core2:      parseT("Les travaux débutent au printemps et durent environ {small} mois."),
		errSlots:   []int{sAmount, sSmall},
		unsafe:     tmpls("Selon certaines rumeurs, {person} toucherait des pots-de-vin des entreprises de travaux."),
		tonePrefix: []string{"Bon, en gros : ", "Alors là, accrochez-vous : "},
		toneSuffix: []string{" Dingue, non ?", " Voilà voilà."},
	},
	esES: {
		folder: "legal",
		title:  parseT("Nota interna: {company} contra {company2}"),
		lead:   parseT("El {date}, el tribunal resolvió que {company2} incumplió el contrato de suministro con {company} y deberá pagar una indemnización de {amount}."),
		key:    parseT("El tribunal rechazó el argumento de fuerza mayor porque el contrato exigía un aviso por escrito en un plazo de {days} días."),
		body: tmpls(
			"La jueza {person} señaló que el aviso enviado por correo electrónico no fue ni oportuno ni suficientemente concreto.",
			"La indemnización cubre el lucro cesante de {count} pedidos cancelados, pero no el daño reputacional reclamado.",
			"{company2} afirmó que está estudiando la sentencia y que dispone de treinta días para recurrirla.",
			"El contrato, firmado en 2021, limita la responsabilidad al doble del valor anual del contrato.",
			"El tribunal consideró que el límite no se aplica porque el incumplimiento fue deliberado.",
			"Cada parte deberá asumir sus propias costas.",
			"La decisión podría influir en otros litigios similares pendientes ante el mismo tribunal.",
			"Esta nota es un resumen para uso interno y no constituye asesoramiento jurídico.",
		),
		core1:      parseT("El tribunal condenó a {company2} a pagar {amount} a {company} por incumplir el contrato de suministro."),
		core2:      parseT("La defensa de fuerza mayor fracasó porque no avisó por escrito en {days} días."),
		errSlots:   []int{sAmount, sDays},
		unsafe:     tmpls("Es evidente que los directivos de {company2} saboteaban las entregas a propósito y deberían ir a la cárcel."),
		tonePrefix: []string{"Pues nada, resumiendo: ", "A ver, en plan: "},
		toneSuffix: []string{" Flipante, ¿no?", " Y ya está."},
	},
	ptBR: {
		folder: "hr",
		title:  parseT("Atualização de política: trabalho híbrido na {company}"),
		lead:   parseT("A partir de {date}, os funcionários da {company} poderão trabalhar remotamente até {small} dias por mês, em vez de dois dias por semana."),
		key:    parseT("Despesas de viagem acima de {price} passam a exigir aprovação prévia do diretor da área."),
		body: tmpls(
			"A mudança segue uma pesquisa interna em que {pct} dos funcionários pediram mais flexibilidade.",
			"Os gestores continuam responsáveis por garantir encontros presenciais pelo menos uma vez por trimestre.",
			"Equipamentos para o escritório em casa podem ser reembolsados uma única vez, com notas enviadas em até {days} dias.",
			"{person}, responsável por gente e gestão, fará duas sessões de esclarecimento na próxima semana.",
			"Funcionários em funções de atendimento presencial não estão incluídos na nova regra.",
			"A política será revisada em seis meses com base em dados de produtividade e engajamento.",
			"Dúvidas devem ser enviadas pelo portal de RH e não diretamente aos gestores.",
			"Despesas enviadas sem a aprovação necessária podem não ser reembolsadas.",
		),
		core1:      parseT("A partir de {date}, a equipe da {company} pode trabalhar remotamente até {small} dias por mês."),
		core2:      parseT("Viagens acima de {price} precisam de aprovação prévia do diretor."),
		errSlots:   []int{sSmall, sPrice},
		unsafe:     tmpls("Quem discordar deve informar ao RH o endereço residencial dos colegas para controle de presença."),
		tonePrefix: []string{"Então, resumindo: ", "Olha só, basicamente: "},
		toneSuffix: []string{" Doideira, né?", " É isso aí."},
	},
	jaJP: {
		folder: "engineering",
		title:  parseT("障害報告：{product}の停止"),
		lead:   parseT("{date}、設定変更により{region}データセンター経由の認証が無効になり、{product}が{small}時間利用できなくなりました。"),
		key:    parseT("アクティブな顧客の約{pct}が影響を受け、障害中に{count}件の問い合わせが寄せられました。"),
		body: tmpls(
			"変更はリリースパイプラインで低リスクと判定されたため、段階的な展開なしで適用されました。",
			"エンジニアは二度の修正に失敗した後、設定をロールバックしました。",
			"顧客データの損失はありませんでしたが、一部の定期ジョブが二重に実行され、手作業で修正しました。",
			"当番の{person}は4分以内に呼び出されましたが、データベースチームへのエスカレーションには1時間以上かかりました。",
			"ステータスページの更新が遅れ、顧客から最も多くの不満が寄せられました。",
			"認証に関わる設定変更はレビューなしで適用できないよう、自動チェックを追加します。",
			"エンタープライズ顧客にはSLAに基づきサービスクレジットを提供します。",
			"{date2}にフォローアップのレビューを行い、対応項目の完了を確認します。",
		),
		core1:      parseT("{date}、設定変更により{product}が{small}時間停止しました。"),
		core2:      parseT("顧客の約{pct}が影響を受け、{count}件の問い合わせがありました。"),
		errSlots:   []int{sSmall, sPct, sCount},
		unsafe:     tmpls("明らかに{person}の無能さが原因であり、解雇すべきです。"),
		tonePrefix: []string{"ぶっちゃけ、", "ざっくり言うと、"},
		toneSuffix: []string{"やばくない？", "以上！"},
	},
}

// fillDocFacts sets the document slots, formatted for the document's locale.
func (g *generator) fillDocFacts(loc int) {
	r, f := &g.r, &g.f
	c1 := r.intn(len(companies))
	c2 := (c1 + 1 + r.intn(len(companies)-1)) % len(companies)
	f.set(sCompany, companies[c1])
	f.set(sCompany2, companies[c2])
	p1 := r.intn(len(people))
	f.set(sPerson, people[p1])
	f.set(sPerson2, people[(p1+1+r.intn(len(people)-1))%len(people)])
	f.set(sCity, pick(r, cities))
	f.set(sRegion, pick(r, regions))
	f.set(sProduct, pick(r, products))
	f.set(sCourt, pick(r, courts))
	for _, s := range [...]int{sAmount, sAmount2, sPct, sPct2, sQuarter, sDate, sDate2, sCount, sSmall, sDays, sPrice} {
		f[s] = g.docValue(f[s][:0], s, loc)
	}
}

// docValue appends a fresh random value for a document slot.
func (g *generator) docValue(b []byte, slot, loc int) []byte {
	r := &g.r
	switch slot {
	case sAmount:
		return appendAmount(b, loc, r.uniform(1.2, 96), r.chance(0.12))
	case sAmount2:
		return appendAmount(b, loc, r.uniform(0.5, 40), false)
	case sPct:
		return appendPct(b, loc, r.uniform(1.5, 38))
	case sPct2:
		return appendPct(b, loc, r.uniform(3, 24))
	case sQuarter:
		b = append(b, 'Q', byte('1'+r.intn(4)))
		return append(b, " 2026"...)
	case sDate, sDate2:
		return appendDate(b, loc, 2026, r.between(1, 12), r.between(1, 28))
	case sCount:
		return appendPadded(b, r.between(12, 4800), 1)
	case sSmall:
		return appendPadded(b, r.between(2, 12), 1)
	case sDays:
		return appendPadded(b, 5*r.between(2, 18), 1)
	case sPrice:
		return appendMoney(b, loc, 100*50*r.between(10, 60), true)
	case sCompany:
		return append(b, pick(r, companies)...)
	case sCity:
		return append(b, pick(r, cities)...)
	}
	return b
}

var sumReasonCum = cumulative(0, 22, 18, 7, 3, 8, 4, 0) // by reason index, factual_error handled apart

func (g *generator) summarize(e *event) {
	r, f := &g.r, &g.f
	local := e.loc >= deDE && r.chance(0.55)
	var gn *genre
	docLoc := enUS
	if local {
		gn = localGenres[e.loc]
		docLoc = e.loc
	} else {
		gn = pick(r, genresEN)
		if e.loc == enGB {
			docLoc = enGB
		}
	}
	g.fillDocFacts(docLoc)

	// The document: title, lead and key sentences, then body sentences in
	// random order until the target length.
	in := e.in[:0]
	in = render(in, gn.title, f)
	in = append(in, "\n\n"...)
	in = render(in, gn.lead, f)
	sep := " "
	if docLoc == jaJP {
		sep = ""
	}
	in = append(in, sep...)
	in = render(in, gn.key, f)
	target := r.between(400, 1400)
	var perm [16]int
	nb := len(gn.body)
	for i := range nb {
		perm[i] = i
	}
	for i := nb - 1; i > 0; i-- {
		j := r.intn(i + 1)
		perm[i], perm[j] = perm[j], perm[i]
	}
	sentences := 2
	runes := runeCount(in)
	for _, j := range perm[:nb] {
		if runes >= target {
			break
		}
		mark := len(in)
		if sentences%3 == 2 && r.chance(0.6) {
			in = append(in, "\n\n"...)
		} else {
			in = append(in, sep...)
		}
		in = render(in, gn.body[j], f)
		n := runeCount(in[mark:])
		if runes+n > 1400 {
			in = in[:mark]
			continue
		}
		runes += n
		sentences++
	}
	e.in = in
	ref := e.ref("doc:d-")
	*ref = appendHex(*ref, r.next(), 8)
	ref = e.ref("folder:")
	*ref = append(*ref, gn.folder...)

	// The summary, and the edit that fixes it.
	out := e.out[:0]
	core := func(b []byte) []byte {
		b = render(b, gn.core1, f)
		b = append(b, sep...)
		return render(b, gn.core2, f)
	}
	var code int8 = -1
	if e.bad {
		if r.chance(e.model.factual) {
			code = rFactual
		} else {
			code = int8(r.pickW(sumReasonCum))
		}
		e.addReason(code)
		if r.chance(0.15) {
			e.addReason(pick(r, []int8{rMissing, rTooLong, rFormatting, rFactual}))
		}
	}
	g.tmp = core(g.tmp[:0]) // the right summary
	detail := false
	switch code {
	case -1:
		out = append(out, g.tmp...)
	case rFactual:
		slot := pick(r, gn.errSlots)
		f[sRight] = append(f[sRight][:0], f[slot]...)
		for range 4 {
			f[sWrong] = g.docValue(f[sWrong][:0], slot, docLoc)
			if string(f[sWrong]) != string(f[slot]) {
				break
			}
		}
		f[slot], f[sWrong] = f[sWrong], f[slot]
		out = core(out)
		f[slot], f[sWrong] = f[sWrong], f[slot]
		detail = string(f[sWrong]) != string(f[sRight])
	case rMissing:
		out = render(out, gn.core1, f)
	case rTooLong:
		out = render(out, gn.lead, f)
		out = append(out, sep...)
		out = render(out, gn.key, f)
		if local {
			out = append(out, sep...)
			out = render(out, gn.body[perm[0]], f)
		} else {
			for range 2 {
				out = append(out, ' ')
				out = render(out, pick(r, fillersEN), f)
			}
		}
	case rTone:
		pre, suf := toneEN.prefix, toneEN.suffix
		if local {
			pre, suf = gn.tonePrefix, gn.toneSuffix
		}
		out = append(out, pick(r, pre)...)
		out = append(out, g.tmp...)
		out = append(out, pick(r, suf)...)
	case rUnsafe:
		out = append(out, g.tmp...)
		out = append(out, sep...)
		out = render(out, pick(r, gn.unsafe), f)
	case rFormatting:
		out = append(out, "**Summary**::\n\n* * "...)
		out = render(out, gn.core1, f)
		out = append(out, "\n-- "...)
		out = render(out, gn.core2, f)
		out = append(out, "\n\n**"...)
	case rIrrelevant:
		i := r.intn(len(genresEN))
		if genresEN[i] == gn {
			i = (i + 1) % len(genresEN)
		}
		out = render(out, genresEN[i].core1, f)
	}
	e.out = out
	if code >= 0 && r.chance(0.42) {
		e.edit = append(e.edit[:0], g.tmp...)
	}
	g.reasonText(e, code, local, detail)

	// Signals.
	inLen, outLen := float64(len(e.in)), float64(len(e.out))
	e.latency = r.lognormal(e.model.latMed*(0.7+inLen/3000), e.model.latSigma)
	e.cost = (inLen/4*0.5 + outLen/4*1.5) / 1e6 * r.uniform(0.95, 1.05)
	e.lenRatio = outLen / inLen
	if r.chance(0.25) {
		e.rating = g.rating(e.bad)
	}
	if e.bad {
		e.dwell = r.lognormal(9000, 0.6)
		e.copy = triOf(r.chance(0.08))
		e.retries = pickInt(r, 0, 0, 1, 1, 2)
		e.abandoned = triOf(r.chance(0.12))
	} else {
		e.dwell = r.lognormal(22000, 0.5)
		e.copy = triOf(r.chance(0.38))
		e.retries = pickInt(r, 0, 0, 0, 0, 0, 0, 0, 1)
		e.abandoned = triOf(r.chance(0.03))
	}
	e.tox = r.uniform(0.001, 0.03)
	e.hall = clamp(e.model.hall+r.uniform(-0.08, 0.1), 0.01, 1)
	e.policy = triOf(r.chance(0.004))
	switch code {
	case rFactual:
		e.hall = r.uniform(0.45, 0.95)
	case rTone:
		e.tox = r.uniform(0.08, 0.3)
	case rUnsafe:
		e.tox = r.uniform(0.3, 0.75)
		e.policy = yes
	}
}

func pickInt(r *rng, xs ...int) int { return xs[r.intn(len(xs))] }

// rating is a 1–5 rating consistent with the outcome.
func (g *generator) rating(bad bool) int {
	if bad {
		return pickInt(&g.r, 1, 1, 2, 2, 3)
	}
	return pickInt(&g.r, 3, 4, 4, 5, 5, 5)
}
