package policy

import "testing"

func TestParseRole(t *testing.T) {
	tests := []struct {
		in      string
		want    Role
		wantErr bool
	}{
		{in: "ciso", want: RoleCISO},
		{in: "giso", want: RoleGISO},
		{in: "diso", want: RoleDISO},
		{in: "ism", want: RoleISM},
		{in: "staff", want: RoleStaff},
		{in: "hr", want: RoleHR},
		{in: "vendor", want: RoleVendor},
		{in: " CISO ", want: RoleCISO},
		{in: "", wantErr: true},
		{in: "contractor", wantErr: true},
		{in: "最高情報セキュリティ責任者", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseRole(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestRoleTitle(t *testing.T) {
	tests := []struct {
		role   Role
		locale string
		want   string
	}{
		{RoleCISO, "ja", "最高情報セキュリティ責任者"},
		{RoleGISO, "ja-JP", "統括情報セキュリティ責任者"},
		{RoleDISO, "ja_JP", "情報セキュリティ責任者"},
		{RoleISM, "JA", "情報システム管理者"},
		{RoleStaff, "ja", "職員等"},
		{RoleHR, "ja", "人事管理部門"},
		{RoleCISO, "en", "Chief Information Security Officer"},
		{RoleGISO, "en-GB", "General Information Security Officer"},
		{RoleDISO, "", "Department Information Security Officer"},
		{RoleISM, "fr", "Information System Manager"},
		{RoleStaff, "en", "Staff"},
		{RoleHR, "en", "Personnel Section"},
		{RoleCISO, "jam", "Chief Information Security Officer"},
		{Role("contractor"), "ja", "contractor"},
		{RoleVendor, "ja", "外部委託事業者"},
	}
	for _, tt := range tests {
		if got := tt.role.Title(tt.locale); got != tt.want {
			t.Errorf("%q.Title(%q) = %q; want %q", tt.role, tt.locale, got, tt.want)
		}
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      int
		want    Level
		wantErr bool
	}{
		{in: 1, want: Level1},
		{in: 2, want: Level2},
		{in: 3, want: Level3},
		{in: 0, wantErr: true},
		{in: 4, wantErr: true},
		{in: -1, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseLevel(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseLevel(%d) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestLevelTitle(t *testing.T) {
	tests := []struct {
		level  Level
		locale string
		want   string
	}{
		{Level1, "ja", "レベル1"},
		{Level2, "ja-JP", "レベル2"},
		{Level3, "ja", "レベル3"},
		{Level1, "en", "Level 1"},
		{Level3, "", "Level 3"},
	}
	for _, tt := range tests {
		if got := tt.level.Title(tt.locale); got != tt.want {
			t.Errorf("Level(%d).Title(%q) = %q; want %q", tt.level, tt.locale, got, tt.want)
		}
	}
}
