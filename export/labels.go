package export

import (
	"strings"

	"prodays"
)

// Languages of the exports meant for people (prodays.LangFR, …).
const (
	LangFR = prodays.LangFR
	LangAR = prodays.LangAR
	LangEN = prodays.LangEN
)

// ParseLang is prodays.ParseLang.
func ParseLang(query, acceptLanguage string) string { return prodays.ParseLang(query, acceptLanguage) }

// participationHeads are the XLSX headers of ParticipationColumns, by
// language, in the same order. The CSV keeps ParticipationColumns (stable
// machine headers).
var participationHeads = map[string][]string{
	LangFR: {"Activité", "Type", "Date", "Région", "Établissement organisateur", "Intitulé", "Entreprise",
		"Personne", "Matricule / id", "Nom", "Prénom", "Établissement de la personne", "Filière", "Groupe",
		"Heure de présence", "Méthodes", "Organisation"},
	LangAR: {"النشاط", "النوع", "التاريخ", "الجهة", "المؤسسة المنظمة", "العنوان", "المقاولة",
		"الشخص", "رقم التسجيل / المعرف", "الاسم العائلي", "الاسم الشخصي", "مؤسسة الشخص", "الشعبة", "الفوج",
		"وقت الحضور", "الطرق", "الهيئة"},
	LangEN: {"Activity", "Type", "Date", "Region", "Organising establishment", "Title", "Company",
		"Person", "Matricule / id", "Last name", "First name", "Person's establishment", "Programme", "Group",
		"Checked in at", "Methods", "Organisation"},
}

// valueLabels are the XLSX words for the coded values of the kind,
// person_kind and methods columns, by language.
var valueLabels = map[string]map[string]string{
	LangFR: {prodays.KindMeeting: "Rencontre thématique", prodays.KindCompanyVisit: "Visite d'entreprise",
		prodays.PersonTrainee: "Stagiaire", prodays.PersonSpeaker: "Intervenant",
		"qr": "QR", "search": "recherche", "manual": "saisie", "override": "décision superviseur"},
	LangAR: {prodays.KindMeeting: "لقاء موضوعاتي", prodays.KindCompanyVisit: "زيارة مقاولة",
		prodays.PersonTrainee: "متدرب(ة)", prodays.PersonSpeaker: "متدخل(ة)",
		"qr": "QR", "search": "بحث", "manual": "إدخال يدوي", "override": "قرار المشرف"},
	LangEN: {prodays.KindMeeting: "Thematic meeting", prodays.KindCompanyVisit: "Company visit",
		prodays.PersonTrainee: "Trainee", prodays.PersonSpeaker: "Speaker",
		"qr": "QR", "search": "search", "manual": "manual", "override": "supervisor's decision"},
}

// attendanceExtra are the XLSX headers of an attendance sheet's
// affiliation and group columns, by language.
var attendanceExtra = map[string][2]string{
	LangFR: {"Établissement / organisation", "Groupe / fonction"},
	LangAR: {"المؤسسة / الهيئة", "الفوج / الصفة"},
	LangEN: {"Establishment / organisation", "Group / title"},
}

// attendanceHeads returns the XLSX headers of an attendance sheet's
// persons in lang: kind, id, last name, first name, affiliation, group,
// time of check-in.
func attendanceHeads(lang string) []string {
	h, x := headsOf(lang), attendanceExtra[lang]
	if x[0] == "" {
		x = attendanceExtra[LangFR]
	}
	return []string{h[7], h[8], h[9], h[10], x[0], x[1], h[14]}
}

// headsOf returns the XLSX headers of lang (French for an unknown one).
func headsOf(lang string) []string {
	if h, ok := participationHeads[lang]; ok {
		return h
	}
	return participationHeads[LangFR]
}

// label returns the word of lang for a coded value, or the value itself.
func label(lang, v string) string {
	m, ok := valueLabels[lang]
	if !ok {
		m = valueLabels[LangFR]
	}
	if l, ok := m[v]; ok {
		return l
	}
	return v
}

// methodsLabel renders the methods column ("qr|search") in lang.
func methodsLabel(lang, v string) string {
	if v == "" {
		return v
	}
	parts := strings.Split(v, "|")
	for i, p := range parts {
		parts[i] = label(lang, p)
	}
	return strings.Join(parts, ", ")
}
