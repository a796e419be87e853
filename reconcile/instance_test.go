package reconcile

import "testing"

func TestDefaultInstance(t *testing.T) {
	a := DefaultInstance("https://git.example.com/ml/models.git", "refs/heads/main", "")
	tests := []struct {
		name      string
		url, ref  string
		dir       string
		same      bool // the same identity as a
		wantStart string
	}{
		{"same source, trailing .git and slash ignored", "https://git.example.com/ml/models/", "refs/heads/main", "/", true, "models-"},
		{"another branch", "https://git.example.com/ml/models.git", "refs/heads/staging", "", false, "models-"},
		{"another path", "https://git.example.com/ml/models.git", "refs/heads/main", "team-a", false, "models-"},
		{"another repository with the same name", "https://git.example.com/risk/models.git", "refs/heads/main", "", false, "models-"},
		{"scp-like ssh", "git@github.com:ml/Fraud_Models.git", "refs/heads/main", "", false, "fraud-models-"},
		{"local path", "/srv/git/models", "refs/heads/main", "", false, "models-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DefaultInstance(tt.url, tt.ref, tt.dir)
			if (got == a) != tt.same {
				t.Errorf("DefaultInstance = %q, %q for the first: same = %v, want %v", got, a, got == a, tt.same)
			}
			if err := ValidateInstance(got); err != nil {
				t.Errorf("default instance invalid: %v", err)
			}
			if len(got) < len(tt.wantStart) || got[:len(tt.wantStart)] != tt.wantStart {
				t.Errorf("DefaultInstance = %q, want it to start with %q", got, tt.wantStart)
			}
		})
	}
	long := DefaultInstance("https://x/"+string(make([]byte, 0))+"a-very-long-repository-name-that-goes-on-and-on.git", "main", "")
	if err := ValidateInstance(long); err != nil {
		t.Errorf("long name: %v", err)
	}
}

func TestValidateInstance(t *testing.T) {
	for _, s := range []string{"", "Prod", "a_b", "-a", "a-very-long-instance-name-over-forty-chars"} {
		if ValidateInstance(s) == nil {
			t.Errorf("ValidateInstance(%q) accepted", s)
		}
	}
	if err := ValidateInstance("team-a-prod"); err != nil {
		t.Error(err)
	}
}

func TestDefaultShardInstance(t *testing.T) {
	const short, long = "https://git.example.com/ml/models.git", "https://git.example.com/ml/a-very-long-repository-name-that-goes-on.git"
	group := DefaultInstance(short, "refs/heads/main", "")
	tests := []struct {
		url, shard string
		want       string // "" when only validity and the suffix are checked
	}{
		{short, "", group},
		{short, "gpu", group + "-gpu"},
		{long, "a-twenty-char-shard1", ""},
		{long, "0", ""},
	}
	for _, tt := range tests {
		got := DefaultShardInstance(tt.url, "refs/heads/main", "", tt.shard)
		if err := ValidateInstance(got); err != nil {
			t.Errorf("DefaultShardInstance(%s, %q): %v", tt.url, tt.shard, err)
		}
		if (tt.want != "" && got != tt.want) || (tt.shard != "" && got[len(got)-len(tt.shard)-1:] != "-"+tt.shard) {
			t.Errorf("DefaultShardInstance(%s, %q) = %q, want %q ending in -%s", tt.url, tt.shard, got, tt.want, tt.shard)
		}
	}
}
