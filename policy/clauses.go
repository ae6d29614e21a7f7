package policy

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// A Clause is a numbered rule of the security standards (情報セキュリティ対策
// 基準) that an exception (例外措置, §7.4) may depart from. An exception
// request names the clauses it departs from by ID.
type Clause struct {
	// ID is the clause number without the section sign: "3(2)", "6.2(1)",
	// or "8.3" for a subsection without numbered paragraphs.
	ID string

	// TitleJa is the heading of the clause as the standards give it.
	TitleJa string

	// TitleEn is an English rendering of TitleJa.
	TitleEn string

	// SectionJa and SectionEn are the heading of the enclosing section or
	// subsection ("不正プログラム対策" for "6.4(1)"), which some clause headings
	// need to be understood.
	SectionJa, SectionEn string
}

// Clauses returns the clauses of sections 3 to 9 of the standards that an
// exception may depart from, in the order of the standards, which is also
// the numeric order of their IDs. The caller may modify the result.
//
// Left out are §7.4 (the exception procedure itself), §7.5 (compliance with
// laws, which no permission of the CISO can waive) and §7.6 (disciplinary
// action, not a rule of conduct).
func Clauses() []Clause {
	const (
		s3   = "情報資産の分類と管理方法"
		s3en = "Classification and management of information assets"
		s4   = "物理的セキュリティ"
		s4en = "Physical security"
		s41  = "サーバ等の管理"
		s41e = "Management of servers and similar equipment"
		s42  = "管理区域（電算室等）の管理"
		s42e = "Management of controlled areas (computer rooms and the like)"
		s51  = "職員等の遵守事項"
		s51e = "Rules for staff"
		s52  = "研修・訓練"
		s52e = "Training and exercises"
		s53  = "情報セキュリティインシデントの報告"
		s53e = "Reporting of information security incidents"
		s54  = "ID及びパスワード等の管理"
		s54e = "Management of IDs and passwords"
		s61  = "コンピュータ及びネットワークの管理"
		s61e = "Management of computers and networks"
		s62  = "アクセス制御"
		s62e = "Access control"
		s63  = "システム開発、導入、保守等"
		s63e = "System development, introduction and maintenance"
		s64  = "不正プログラム対策"
		s64e = "Countermeasures against malware"
		s65  = "不正アクセス対策"
		s65e = "Countermeasures against unauthorised access"
		s66  = "セキュリティ情報の収集"
		s66e = "Collection of security information"
		s7   = "運用"
		s7en = "Operations"
		s72  = "情報セキュリティポリシーの遵守状況の確認"
		s72e = "Checking compliance with the information security policy"
		s73  = "侵害時の対応等"
		s73e = "Response to security breaches"
		s8   = "外部サービスの利用"
		s8en = "Use of external services"
		s81  = "外部委託"
		s81e = "Outsourcing"
		s9   = "評価・見直し"
		s9en = "Evaluation and review"
		s91  = "自己点検"
		s91e = "Self-inspection"
	)
	return []Clause{
		{"3(1)", "情報資産の分類", "Classification of information assets", s3, s3en},
		{"3(2)", "情報資産の管理", "Management of information assets", s3, s3en},

		{"4.1(1)", "機器の取付け", "Installation of equipment", s41, s41e},
		{"4.1(2)", "サーバの冗長化", "Server redundancy", s41, s41e},
		{"4.1(3)", "通信ケーブル等の配線", "Wiring of communication and power cables", s41, s41e},
		{"4.1(4)", "機器の定期保守及び修理", "Periodic maintenance and repair of equipment", s41, s41e},
		{"4.1(5)", "庁外への機器の設置", "Installation of equipment outside the town offices", s41, s41e},
		{"4.1(6)", "機器の廃棄等", "Disposal and return of equipment", s41, s41e},
		{"4.2(1)", "管理区域の構造等", "Structure of controlled areas", s42, s42e},
		{"4.2(2)", "管理区域の入退室管理等", "Entry and exit control of controlled areas", s42, s42e},
		{"4.2(3)", "機器等の搬入出", "Carrying equipment in and out", s42, s42e},
		{"4.3", "職員等の利用する端末や電磁的記録媒体等の管理", "Management of terminals and electronic media used by staff", s4, s4en},

		{"5.1(1)", "職員等の遵守事項", "Rules for staff", s51, s51e},
		{"5.1(2)", "情報セキュリティポリシー等の掲示", "Posting of the information security policy", s51, s51e},
		{"5.1(3)", "外部委託事業者に対する説明", "Briefing of contractors", s51, s51e},
		{"5.2(1)", "情報セキュリティに関する研修・訓練", "Information security training and exercises", s52, s52e},
		{"5.2(2)", "研修計画の策定及び実施", "Drawing up and carrying out the training plan", s52, s52e},
		{"5.2(3)", "緊急時対応訓練", "Emergency response exercises", s52, s52e},
		{"5.2(4)", "研修・訓練への参加", "Attendance at training and exercises", s52, s52e},
		{"5.3(1)", "庁内からの情報セキュリティインシデントの報告", "Reporting of incidents from within the town offices", s53, s53e},
		{"5.3(2)", "住民等外部からの情報セキュリティインシデントの報告", "Reporting of incidents by residents and other outsiders", s53, s53e},
		{"5.3(3)", "情報セキュリティインシデント原因の究明・記録、再発防止等", "Investigating and recording incident causes, and preventing recurrence", s53, s53e},
		{"5.4(1)", "IDの取扱い", "Handling of IDs", s54, s54e},
		{"5.4(2)", "パスワードの取扱い", "Handling of passwords", s54, s54e},

		{"6.1(1)", "文書サーバの設定等", "Settings of file servers", s61, s61e},
		{"6.1(2)", "バックアップの実施", "Backups", s61, s61e},
		{"6.1(3)", "システム管理記録及び作業の確認", "System administration records and checking of work", s61, s61e},
		{"6.1(4)", "情報システム仕様書等の管理", "Management of system specifications and network diagrams", s61, s61e},
		{"6.1(5)", "ログの取得等", "Collection and retention of logs", s61, s61e},
		{"6.1(6)", "障害記録", "Fault records", s61, s61e},
		{"6.1(7)", "ネットワークの接続制御、経路制御等", "Network connection control and routing control", s61, s61e},
		{"6.1(8)", "外部ネットワークとの接続制限等", "Restrictions on connection to external networks", s61, s61e},
		{"6.1(9)", "複合機のセキュリティ管理", "Security of multifunction printers", s61, s61e},
		{"6.1(10)", "電子メールのセキュリティ管理", "Security of email", s61, s61e},
		{"6.1(11)", "電子署名・暗号化", "Electronic signatures and encryption", s61, s61e},
		{"6.1(12)", "電子メールの利用制限", "Restrictions on the use of email", s61, s61e},
		{"6.1(13)", "電子署名・暗号化", "Electronic signatures and encryption", s61, s61e},
		{"6.1(14)", "無許可ソフトウェアの導入等の禁止", "Prohibition of installing unauthorised software", s61, s61e},
		{"6.1(15)", "機器構成の変更の制限", "Restrictions on changing hardware configuration", s61, s61e},
		{"6.1(16)", "無許可でのネットワーク接続の禁止", "Prohibition of unauthorised network connection", s61, s61e},
		{"6.1(17)", "業務以外の目的でのウェブ閲覧の禁止", "Prohibition of web browsing for non-work purposes", s61, s61e},
		{"6.1(18)", "無線LAN及びネットワークの盗聴対策", "Wireless LAN and protection against eavesdropping on networks", s61, s61e},
		{"6.2(1)", "アクセス制御等", "Access control and user IDs", s62, s62e},
		{"6.2(2)", "職員等による外部からのアクセス等の制限", "Restrictions on remote access by staff", s62, s62e},
		{"6.2(3)", "自動識別の設定", "Automatic identification of devices", s62, s62e},
		{"6.2(4)", "ログイン時の表示等", "Login messages and displays", s62, s62e},
		{"6.2(5)", "認証情報の管理", "Management of authentication information", s62, s62e},
		{"6.2(6)", "特権による接続時間の制限", "Limiting the connection time of privileged access", s62, s62e},
		{"6.3(1)", "情報システムの調達", "Procurement of information systems", s63, s63e},
		{"6.3(2)", "情報システムの開発", "Development of information systems", s63, s63e},
		{"6.3(3)", "情報システムの移行", "Migration of information systems into operation", s63, s63e},
		{"6.3(4)", "情報システムの導入", "Introduction of information systems", s63, s63e},
		{"6.3(5)", "システム開発・保守に関連する資料等の整備・保管", "Keeping of development and maintenance documents", s63, s63e},
		{"6.3(6)", "情報システムの変更管理", "Change management of information systems", s63, s63e},
		{"6.4(1)", "統括情報セキュリティ責任者の措置事項", "Measures by the General Information Security Officer", s64, s64e},
		{"6.4(2)", "情報システム管理者の措置事項", "Measures by Information System Managers", s64, s64e},
		{"6.4(3)", "職員等の遵守事項", "Rules for staff", s64, s64e},
		{"6.5(1)", "統括情報セキュリティ責任者の措置事項", "Measures by the General Information Security Officer", s65, s65e},
		{"6.5(2)", "攻撃の予告", "Notice of an attack", s65, s65e},
		{"6.5(3)", "職員等による不正アクセス", "Unauthorised access by staff", s65, s65e},
		{"6.5(4)", "サービス不能攻撃", "Denial-of-service attacks", s65, s65e},
		{"6.5(5)", "標的型攻撃", "Targeted attacks", s65, s65e},
		{"6.6(1)", "セキュリティホールに関する情報の収集・共有及びソフトウェアの更新等", "Collecting and sharing vulnerability information, and updating software", s66, s66e},
		{"6.6(2)", "不正プログラム等のセキュリティ情報の収集・周知", "Collecting and circulating security information on malware", s66, s66e},
		{"6.6(3)", "情報セキュリティに関する情報の収集及び共有", "Collecting and sharing information security information", s66, s66e},

		{"7.1", "情報システムの監視", "Monitoring of information systems", s7, s7en},
		{"7.2(1)", "遵守状況の確認及び対処", "Checking compliance and dealing with problems", s72, s72e},
		{"7.2(2)", "職員等の報告義務", "Duty of staff to report violations", s72, s72e},
		{"7.3(1)", "緊急時対応計画の策定", "Drawing up the emergency response plan", s73, s73e},
		{"7.3(2)", "緊急時対応計画に盛り込むべき内容", "Contents of the emergency response plan", s73, s73e},
		{"7.3(3)", "緊急時対応計画の見直し", "Review of the emergency response plan", s73, s73e},

		{"8.1(1)", "外部委託事業者の選定基準", "Criteria for selecting contractors", s81, s81e},
		{"8.1(2)", "契約項目", "Contract terms", s81, s81e},
		{"8.2", "ソーシャルメディアサービスの利用", "Use of social media services", s8, s8en},
		{"8.3", "クラウドサービスの利用", "Use of cloud services", s8, s8en},

		{"9.1(1)", "実施方法", "How self-inspection is carried out", s91, s91e},
		{"9.1(2)", "報告", "Reporting of self-inspection results", s91, s91e},
		{"9.1(3)", "自己点検結果の活用", "Use of self-inspection results", s91, s91e},
		{"9.2", "情報セキュリティポリシー及び関係規程等の見直し", "Review of the information security policy and related rules", s9, s9en},
	}
}

// LookupClause returns the clause with the given ID, such as "6.2(1)". A
// leading section sign and surrounding spaces are ignored.
func LookupClause(id string) (Clause, bool) {
	id = strings.TrimPrefix(strings.TrimSpace(id), "§")
	for _, c := range Clauses() {
		if c.ID == id {
			return c, true
		}
	}
	return Clause{}, false
}

// CompareClauseIDs compares two clause IDs in the order of the standards,
// numerically: "6.1(9)" < "6.1(10)" < "6.2(1)", and "4.2(3)" < "4.3" < "5.1(1)".
// It returns -1, 0 or +1, as cmp.Compare does, and suits slices.SortFunc.
// IDs that are not well formed sort after all others, by text.
func CompareClauseIDs(a, b string) int {
	ka, oka := clauseKey(a)
	kb, okb := clauseKey(b)
	switch {
	case oka && okb:
		return slices.Compare(ka[:], kb[:])
	case oka:
		return -1
	case okb:
		return +1
	}
	return cmp.Compare(a, b)
}

// clauseKey splits a clause ID "S[.U][(P)]" into section, subsection and
// paragraph numbers, 0 for a missing part.
func clauseKey(id string) (key [3]int, ok bool) {
	head, para, hasPara := strings.Cut(id, "(")
	if hasPara {
		p, found := strings.CutSuffix(para, ")")
		if !found {
			return key, false
		}
		para = p
	}
	sec, sub, hasSub := strings.Cut(head, ".")
	parts := []struct {
		s       string
		present bool
	}{{sec, true}, {sub, hasSub}, {para, hasPara}}
	for i, p := range parts {
		if !p.present {
			continue
		}
		n, err := strconv.Atoi(p.s)
		if err != nil || n <= 0 || p.s[0] == '0' || p.s[0] == '+' {
			return key, false
		}
		key[i] = n
	}
	return key, true
}
