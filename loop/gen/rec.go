package gen

// Product recommendations: a shopper's query and context in, a ranked list
// of products out. Each event is one impression of the list logged at one
// position of the experiment "rec-ranker-2026-11"; clicks fall with position
// (examination bias) and the propensity is that position's examination
// probability.

const experimentID = "rec-ranker-2026-11"

type category struct {
	name, noun, hobby string
	local             [nLocales]string
	brands, models    []string
	attrs, purposes   []string
	minUSD, maxUSD    int
}

var categories = []*category{
	{name: "running shoes", noun: "running shoe", hobby: "running",
		local:  [nLocales]string{deDE: "Laufschuhe", frFR: "chaussures de running", esES: "zapatillas de running", ptBR: "tênis de corrida", jaJP: "ランニングシューズ"},
		brands: []string{"Stride", "Aerolite", "Kinetic", "Trailhawk"}, models: []string{"Pulse 3", "Glide Pro", "Tempo 2", "Ridge GTX", "Swift 5"},
		attrs: []string{"lightweight", "waterproof", "wide-fit", "cushioned"}, purposes: []string{"marathon training", "trail running", "daily jogging"},
		minUSD: 59, maxUSD: 189},
	{name: "wireless headphones", noun: "headphones", hobby: "music",
		local:  [nLocales]string{deDE: "kabellose Kopfhörer", frFR: "casques sans fil", esES: "auriculares inalámbricos", ptBR: "fones de ouvido sem fio", jaJP: "ワイヤレスヘッドホン"},
		brands: []string{"Sonora", "Aurial", "Kove", "Pulsewave"}, models: []string{"Q40", "Studio Air", "NC700", "Flow 2", "Halo ANC"},
		attrs: []string{"noise-cancelling", "over-ear", "foldable"}, purposes: []string{"noisy commutes", "long flights", "working from home"},
		minUSD: 39, maxUSD: 349},
	{name: "coffee grinders", noun: "coffee grinder", hobby: "coffee",
		local:  [nLocales]string{deDE: "Kaffeemühlen", frFR: "moulins à café", esES: "molinillos de café", ptBR: "moedores de café", jaJP: "コーヒーグラインダー"},
		brands: []string{"Baristo", "Millhaus", "Crema & Co", "Kaffa"}, models: []string{"Burr 60", "Precision S", "Hand Mill M2", "Duo 40"},
		attrs: []string{"burr", "quiet", "compact"}, purposes: []string{"espresso", "pour-over", "a small kitchen"},
		minUSD: 29, maxUSD: 299},
	{name: "hiking backpacks", noun: "backpack", hobby: "hiking",
		local:  [nLocales]string{deDE: "Wanderrucksäcke", frFR: "sacs à dos de randonnée", esES: "mochilas de senderismo", ptBR: "mochilas de trilha", jaJP: "登山用リュック"},
		brands: []string{"Northpeak", "Cairn", "Alpenwise"}, models: []string{"Trek 40", "Summit 28", "Ranger 55", "Daypack 22"},
		attrs: []string{"40-litre", "lightweight", "rain-proof"}, purposes: []string{"weekend hikes", "multi-day treks", "travel"},
		minUSD: 49, maxUSD: 249},
	{name: "office chairs", noun: "office chair", hobby: "working from home",
		local:  [nLocales]string{deDE: "Bürostühle", frFR: "chaises de bureau", esES: "sillas de oficina", ptBR: "cadeiras de escritório", jaJP: "オフィスチェア"},
		brands: []string{"Postura", "Ergoline", "Deskwell"}, models: []string{"Flex 2", "Mesh Pro", "Task 300", "Lumbar X"},
		attrs: []string{"ergonomic", "adjustable", "mesh"}, purposes: []string{"long workdays", "a home office", "back pain"},
		minUSD: 89, maxUSD: 649},
	{name: "mechanical keyboards", noun: "keyboard", hobby: "gaming",
		local:  [nLocales]string{deDE: "mechanische Tastaturen", frFR: "claviers mécaniques", esES: "teclados mecánicos", ptBR: "teclados mecânicos", jaJP: "メカニカルキーボード"},
		brands: []string{"Keyforge", "Clack", "Tactile Labs"}, models: []string{"K65", "TKL Pro", "Mini 60", "Split 2"},
		attrs: []string{"quiet", "hot-swappable", "wireless"}, purposes: []string{"programming", "gaming", "a small desk"},
		minUSD: 49, maxUSD: 229},
	{name: "rain jackets", noun: "rain jacket", hobby: "cycling",
		local:  [nLocales]string{deDE: "Regenjacken", frFR: "vestes de pluie", esES: "chaquetas impermeables", ptBR: "jaquetas impermeáveis", jaJP: "レインジャケット"},
		brands: []string{"Driftwood", "Stormline", "Nordvind"}, models: []string{"Shell 2.5L", "Packlite", "Monsoon", "Squall"},
		attrs: []string{"packable", "breathable", "hooded"}, purposes: []string{"cycling to work", "city walks", "hiking"},
		minUSD: 59, maxUSD: 299},
	{name: "chef's knives", noun: "chef's knife", hobby: "cooking",
		local:  [nLocales]string{deDE: "Kochmesser", frFR: "couteaux de chef", esES: "cuchillos de cocinero", ptBR: "facas de chef", jaJP: "包丁"},
		brands: []string{"Hashira", "Solingen Works", "Edgecraft"}, models: []string{"Gyuto 21", `Classic 8"`, "Santoku 18", "Petty 13"},
		attrs: []string{"stainless", "Japanese-style", "dishwasher-safe"}, purposes: []string{"home cooking", "a first kitchen", "meal prep"},
		minUSD: 25, maxUSD: 229},
	{name: "yoga mats", noun: "yoga mat", hobby: "yoga",
		local:  [nLocales]string{deDE: "Yogamatten", frFR: "tapis de yoga", esES: "esterillas de yoga", ptBR: "tapetes de yoga", jaJP: "ヨガマット"},
		brands: []string{"Lotus Path", "Grounded", "Asana Co"}, models: []string{"Grip 6mm", "Travel Fold", "Eco Cork"},
		attrs: []string{"non-slip", "thick", "eco-friendly"}, purposes: []string{"hot yoga", "travel", "home workouts"},
		minUSD: 19, maxUSD: 129},
	{name: "robot vacuums", noun: "robot vacuum", hobby: "gadgets",
		local:  [nLocales]string{deDE: "Saugroboter", frFR: "aspirateurs robots", esES: "robots aspiradores", ptBR: "robôs aspiradores", jaJP: "ロボット掃除機"},
		brands: []string{"Dustbot", "Cleanwise", "Roomie"}, models: []string{"S7 Max", "Edge 2", "Mop+ 500", "Lite 3"},
		attrs: []string{"pet-friendly", "quiet", "self-emptying"}, purposes: []string{"pet hair", "a large apartment", "hard floors"},
		minUSD: 149, maxUSD: 899},
	{name: "board games", noun: "board game", hobby: "board games",
		local:  [nLocales]string{deDE: "Brettspiele", frFR: "jeux de société", esES: "juegos de mesa", ptBR: "jogos de tabuleiro", jaJP: "ボードゲーム"},
		brands: []string{"Meeple House", "Tabletop Forge", "Dicey"}, models: []string{"Harbor Lights", "Skyward", "Kingdom Roads", "Night Market"},
		attrs: []string{"cooperative", "two-player", "family-friendly"}, purposes: []string{"game night", "kids aged 8 and up", "two players"},
		minUSD: 15, maxUSD: 79},
	{name: "desk lamps", noun: "desk lamp", hobby: "reading",
		local:  [nLocales]string{deDE: "Schreibtischlampen", frFR: "lampes de bureau", esES: "lámparas de escritorio", ptBR: "luminárias de mesa", jaJP: "デスクライト"},
		brands: []string{"Lumo", "Brightline", "Halo Works"}, models: []string{"Arc LED", "Clamp 2", "Task Mini", "Swing"},
		attrs: []string{"dimmable", "warm-light", "clamp-on"}, purposes: []string{"late-night reading", "a home office", "drawing"},
		minUSD: 19, maxUSD: 149},
}

var relations = []string{"sister", "dad", "mom", "partner", "colleague", "nephew", "best friend", "grandfather"}

var recQueryEN = tmpls(
	"{attr} {category} under {budget}",
	"best {category} for {purpose}",
	"gift for my {relation} who is into {hobby}, budget around {budget}",
	"something like the {item} but cheaper",
	"{category} for {purpose}, {attr} if possible",
	"need new {category}, max {budget}",
	"which {category} do you recommend for {purpose}?",
)

var recQueryLocal = [nLocales][]tmpl{
	deDE: tmpls("{category} unter {budget}", "Suche gute {category}, maximal {budget}", "Geschenkidee: {category} bis {budget}"),
	frFR: tmpls("{category} à moins de {budget}", "Je cherche des {category}, budget {budget} maximum", "Idée cadeau : {category} jusqu'à {budget}"),
	esES: tmpls("{category} por menos de {budget}", "Busco {category}, máximo {budget}", "Regalo: {category} hasta {budget}"),
	ptBR: tmpls("{category} até {budget}", "Procuro {category} de até {budget}", "Presente: {category} por no máximo {budget}"),
	jaJP: tmpls("{budget}以下の{category}", "{category}を探しています。予算は{budget}まで", "プレゼント用の{category}、{budget}以内"),
}

var recHeader = [nLocales][]string{
	enUS: {"Top picks for you:", "You might like:", "Recommended for you:"},
	enGB: {"Top picks for you:", "You might like:", "Recommended for you:"},
	deDE: {"Unsere Empfehlungen:"},
	frFR: {"Nos suggestions :"},
	esES: {"Te recomendamos:"},
	ptBR: {"Recomendados para você:"},
	jaJP: {"おすすめ商品:"},
}

var devices = []string{"iOS app", "Android app", "mobile web", "desktop web", "tablet"}

var blurbs = []string{
	" Customers love its outstanding quality, premium materials and the attention to detail that sets it apart from everything else in its class.",
	" A best-seller this season, praised in countless reviews for comfort, durability and value for money, and backed by a generous warranty.",
	" Designed for people who want the very best, with a long list of features you will discover and enjoy over years of everyday use.",
}

// examination[p] is the chance a shopper looks at position p (1-based).
var examination = [9]float64{0, 1, 0.62, 0.46, 0.37, 0.31, 0.26, 0.23, 0.2}

var recReasonCum = cumulative(15, 20, 5, 0, 0, 10, 50, 0)

func (g *generator) productName(b []byte, c *category, k int) []byte {
	r := &g.r
	b = append(b, pick(r, c.brands)...)
	b = append(b, ' ')
	b = append(b, c.models[k%len(c.models)]...)
	b = append(b, ' ')
	return append(b, c.noun...)
}

func (g *generator) recommend(e *event) {
	r, f := &g.r, &g.f
	ci := r.intn(len(categories))
	c := categories[ci]
	local := e.loc >= deDE && r.chance(0.6)
	moneyLoc := e.loc
	if !local && e.loc >= deDE {
		moneyLoc = enUS
	}
	budget := 10 * int(r.uniform(float64(c.minUSD)*1.3, float64(c.maxUSD)*0.85)/10)
	f[sBudget] = appendMoney(f[sBudget][:0], moneyLoc, budget*100, true)
	if local {
		f.set(sCategory, c.local[e.loc])
	} else {
		f.set(sCategory, c.name)
	}
	f.set(sAttr, pick(r, c.attrs))
	f.set(sPurpose, pick(r, c.purposes))
	f.set(sRelation, pick(r, relations))
	f.set(sHobby, c.hobby)
	f[sItem] = g.productName(f[sItem][:0], c, r.intn(8))

	in := e.in[:0]
	if local {
		in = render(in, pick(r, recQueryLocal[e.loc]), f)
	} else {
		in = render(in, pick(r, recQueryEN), f)
	}
	cart := pickInt(r, 0, 0, 0, 1, 1, 2, 3)
	in = append(in, "\n\nContext: "...)
	in = append(in, pick(r, devices)...)
	in = append(in, "; last viewed: "...)
	in = append(in, f[sItem]...)
	in = append(in, "; items in cart: "...)
	in = appendPadded(in, cart, 1)
	in = append(in, '.')
	e.in = in
	ref := e.ref("viewed:sku-")
	*ref = appendPadded(*ref, r.between(100000, 999999), 6)
	if cart > 0 {
		ref = e.ref("cart:c-")
		*ref = appendPadded(*ref, r.between(10000, 99999), 5)
	}

	var code int8 = -1
	if e.bad {
		code = int8(r.pickW(recReasonCum))
		e.addReason(code)
	}
	n := r.between(4, 8)
	shown := c
	if code == rIrrelevant {
		shown = categories[(ci+1+r.intn(len(categories)-1))%len(categories)]
	}
	out := e.out[:0]
	if code == rFormatting {
		out = append(out, "<ul>"...)
	} else {
		hl := e.loc
		if !local {
			hl = enUS
		}
		out = append(out, pick(r, recHeader[hl])...)
	}
	first := r.intn(8)
	for k := 1; k <= n; k++ {
		price := r.between(shown.minUSD, shown.maxUSD)
		if code == rMissing {
			price = budget + r.between(budget/4+1, budget)
		} else if shown == c && price > budget {
			price = r.between(shown.minUSD, max(budget, shown.minUSD))
		}
		cents := price*100 - pickInt(r, 1, 1, 5, 100)
		if code == rFormatting {
			out = append(out, "<li>"...)
			out = g.productName(out, shown, first+k)
			out = append(out, " &ndash; "...)
			out = appendMoney(out, moneyLoc, cents, false)
			out = append(out, "</li>"...)
			continue
		}
		out = append(out, '\n')
		out = appendPadded(out, k, 1)
		out = append(out, ". "...)
		out = g.productName(out, shown, first+k)
		out = append(out, " — "...)
		out = appendMoney(out, moneyLoc, cents, false)
		out = append(out, " ("...)
		out = appendDecimal(out, enUS, r.uniform(3.6, 4.9))
		out = append(out, "★)"...)
		if code == rTooLong {
			out = append(out, pick(r, blurbs)...)
		}
	}
	if code == rFormatting {
		out = append(out, "</ul"...)
	}
	e.out = out
	g.reasonText(e, code, local, false)

	// Experiment, position bias, clicks and add-to-cart.
	e.exp = true
	e.arm = "control"
	treat := e.uhash>>63 == 1 // arm by user, independent of segment and locale bits
	if treat {
		e.arm = "treatment"
	}
	e.pos = r.between(1, n)
	e.prop = examination[e.pos]
	rel := 0.12
	if !e.bad {
		rel = e.model.relevance
	}
	if treat {
		rel += 0.06
	}
	clicked := r.chance(e.prop * rel * 1.6)
	e.clicked = triOf(clicked)
	conv := clicked && r.chance(0.26+0.05*b2f(treat))
	e.converted = triOf(conv)
	if conv {
		e.tts = r.lognormal(90000, 0.6)
	}
	if clicked {
		e.dwell = r.lognormal(45000, 0.7)
	} else {
		e.dwell = r.lognormal(6000, 0.6)
	}
	e.abandoned = triOf(!clicked && r.chance(0.3+0.2*b2f(e.bad)))
	if e.bad {
		e.retries = pickInt(r, 0, 1, 1, 2, 3)
	} else {
		e.retries = pickInt(r, 0, 0, 0, 0, 1)
	}
	e.latency = r.lognormal(e.model.latMed, e.model.latSigma)
	e.conf = r.uniform(0.55, 0.97)
	if e.bad {
		e.conf -= r.uniform(0.1, 0.3)
	}
	e.cost = float64(len(e.in)+len(e.out)) / 4 * 0.08 / 1e6
	e.tox = r.uniform(0, 0.01)
	e.policy = triOf(r.chance(0.002))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
