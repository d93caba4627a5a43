package prodays

import "golang.org/x/text/language"

// Languages of the exports meant for people (XLSX headers and values):
// French first, Arabic, English, as the web app.
const (
	LangFR = "fr"
	LangAR = "ar"
	LangEN = "en"
)

var langMatcher = language.NewMatcher([]language.Tag{language.French, language.Arabic, language.English})

// ParseLang returns the export language of a request: the query
// parameter lang when it names one ("fr", "ar", "en", or a tag such as
// "ar-MA"), else the best match of an Accept-Language header (RFC 9110
// §12.5.4), else French.
func ParseLang(query, acceptLanguage string) string {
	tags, _, _ := language.ParseAcceptLanguage(acceptLanguage)
	if query != "" {
		if t, err := language.Parse(query); err == nil {
			tags = []language.Tag{t}
		}
	}
	if len(tags) == 0 {
		return LangFR
	}
	_, i, conf := langMatcher.Match(tags...)
	if conf == language.No {
		return LangFR
	}
	return []string{LangFR, LangAR, LangEN}[i]
}
