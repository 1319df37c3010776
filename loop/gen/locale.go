package gen

import "strconv"

const (
	enUS = iota
	enGB
	deDE
	frFR
	esES
	ptBR
	jaJP
	nLocales
)

var localeNames = [nLocales]string{"en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "pt-BR", "ja-JP"}

// Share of users per locale.
var localeCum = cumulative(40, 14, 12, 10, 9, 8, 7)

var monthsEN = [12]string{"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"}

// appendDate writes a calendar date the way the locale writes it.
func appendDate(b []byte, loc, y, m, d int) []byte {
	switch loc {
	case enUS:
		b = append(b, monthsEN[m-1]...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(d), 10)
		b = append(b, ", "...)
		return strconv.AppendInt(b, int64(y), 10)
	case enGB:
		b = strconv.AppendInt(b, int64(d), 10)
		b = append(b, ' ')
		b = append(b, monthsEN[m-1]...)
		b = append(b, ' ')
		return strconv.AppendInt(b, int64(y), 10)
	case deDE:
		b = appendPadded(b, d, 2)
		b = append(b, '.')
		b = appendPadded(b, m, 2)
		b = append(b, '.')
		return strconv.AppendInt(b, int64(y), 10)
	case jaJP:
		b = strconv.AppendInt(b, int64(y), 10)
		b = append(b, "年"...)
		b = strconv.AppendInt(b, int64(m), 10)
		b = append(b, "月"...)
		b = strconv.AppendInt(b, int64(d), 10)
		return append(b, "日"...)
	default:
		b = appendPadded(b, d, 2)
		b = append(b, '/')
		b = appendPadded(b, m, 2)
		b = append(b, '/')
		return strconv.AppendInt(b, int64(y), 10)
	}
}

// appendDecimal writes x with one decimal and the locale's decimal mark.
func appendDecimal(b []byte, loc int, x float64) []byte {
	n := int(x*10 + 0.5)
	b = strconv.AppendInt(b, int64(n/10), 10)
	if loc == enUS || loc == enGB || loc == jaJP {
		b = append(b, '.')
	} else {
		b = append(b, ',')
	}
	return append(b, byte('0'+n%10))
}

// appendAmount writes a large amount of money: x millions (or billions).
func appendAmount(b []byte, loc int, x float64, billions bool) []byte {
	switch loc {
	case enUS, enGB:
		if loc == enUS {
			b = append(b, '$')
		} else {
			b = append(b, "£"...)
		}
		b = appendDecimal(b, loc, x)
		if billions {
			return append(b, " billion"...)
		}
		return append(b, " million"...)
	case deDE:
		b = appendDecimal(b, loc, x)
		if billions {
			return append(b, " Mrd. Euro"...)
		}
		return append(b, " Mio. Euro"...)
	case frFR:
		b = appendDecimal(b, loc, x)
		if billions {
			return append(b, " milliards d'euros"...)
		}
		return append(b, " millions d'euros"...)
	case esES:
		b = appendDecimal(b, loc, x)
		if billions {
			return append(b, " mil millones de euros"...)
		}
		return append(b, " millones de euros"...)
	case ptBR:
		b = append(b, "R$ "...)
		b = appendDecimal(b, loc, x)
		if billions {
			return append(b, " bilhões"...)
		}
		return append(b, " milhões"...)
	default: // ja-JP: hundreds of millions of yen
		b = appendDecimal(b, loc, x*1.5)
		return append(b, "億円"...)
	}
}

// appendPct writes a percentage with one decimal.
func appendPct(b []byte, loc int, x float64) []byte {
	b = appendDecimal(b, loc, x)
	switch loc {
	case deDE, frFR, esES:
		return append(b, " %"...)
	}
	return append(b, '%')
}

// appendMoney writes a price in the locale's currency, with cents unless
// whole (yen are never shown with cents: a cent is taken as one yen).
func appendMoney(b []byte, loc int, cents int, whole bool) []byte {
	units, frac := cents/100, cents%100
	switch loc {
	case enUS, enGB:
		if loc == enUS {
			b = append(b, '$')
		} else {
			b = append(b, "£"...)
		}
		b = group(b, units, ",")
		if whole {
			return b
		}
		b = append(b, '.')
		return appendPadded(b, frac, 2)
	case ptBR:
		b = append(b, "R$ "...)
		b = group(b, units, ".")
		if whole {
			return b
		}
		b = append(b, ',')
		return appendPadded(b, frac, 2)
	case jaJP:
		b = append(b, "¥"...)
		return group(b, cents, ",") // yen have no cents: ~100 yen per dollar
	default:
		sep := "."
		if loc == frFR {
			sep = " "
		}
		b = group(b, units, sep)
		if !whole {
			b = append(b, ',')
			b = appendPadded(b, frac, 2)
		}
		return append(b, " €"...)
	}
}

// group writes v with a thousands separator.
func group(b []byte, v int, sep string) []byte {
	if v >= 1000 {
		b = group(b, v/1000, sep)
		b = append(b, sep...)
		return appendPadded(b, v%1000, 3)
	}
	return strconv.AppendInt(b, int64(v), 10)
}
