package dialplan

import "testing"

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		number string
		class  Class
		norm   string
	}{
		{name: "999", number: "999", class: ClassEmergency, norm: "999"},
		{name: "112", number: "112", class: ClassEmergency, norm: "112"},
		{name: "NHS 111", number: "111", class: ClassNational, norm: "111"},
		{name: "police 101", number: "101", class: ClassNational, norm: "101"},
		{name: "London national", number: "020 7946 0000", class: ClassNational, norm: "+442079460000"},
		{name: "geographic 01", number: "01632 960000", class: ClassNational, norm: "+441632960000"},
		{name: "geographic E.164", number: "+441632960000", class: ClassNational, norm: "+441632960000"},
		{name: "geographic 00 44", number: "00441632960000", class: ClassNational, norm: "+441632960000"},
		{name: "non-geographic 03", number: "03069990000", class: ClassNational, norm: "+443069990000"},
		{name: "freephone 0808", number: "0808 157 0000", class: ClassNational, norm: "+448081570000"},
		{name: "mobile 07700", number: "07700 900000", class: ClassMobile, norm: "+447700900000"},
		{name: "mobile E.164", number: "+447700900000", class: ClassMobile, norm: "+447700900000"},
		{name: "Isle of Man mobile 07624", number: "07624 000000", class: ClassMobile, norm: "+447624000000"},
		{name: "pager 076", number: "07600 000000", class: ClassPremium, norm: "+447600000000"},
		{name: "personal 070", number: "07000 000000", class: ClassPremium, norm: "+447000000000"},
		{name: "premium 09", number: "0909 8790000", class: ClassPremium, norm: "+449098790000"},
		{name: "nine-digit UK", number: "01697 00000", class: ClassNational, norm: "+44169700000"},
		{name: "UK too short", number: "0207946", class: ClassInvalid, norm: "+44207946"},
		{name: "UK too long", number: "020794600001", class: ClassInvalid, norm: "+4420794600001"},
		{name: "UK 04 unallocated", number: "04000000000", class: ClassInvalid, norm: "+444000000000"},
		{name: "US international", number: "+1 (202) 555-0100", class: ClassInternational, norm: "+12025550100"},
		{name: "France via 00", number: "0033 1 23 45 67 89", class: ClassInternational, norm: "+33123456789"},
		{name: "international too short", number: "+3312", class: ClassInvalid, norm: "+3312"},
		{name: "international too long", number: "+3312345678901234", class: ClassInvalid, norm: "+3312345678901234"},
		{name: "country code zero", number: "+0123456789", class: ClassInvalid, norm: "+0123456789"},
		{name: "bare digits without 0 or +", number: "2079460000", class: ClassInvalid},
		{name: "bare E.164 without +", number: "442079460000", class: ClassNational, norm: "+442079460000"},
		{name: "bare E.164 international", number: "15551230000", class: ClassInternational, norm: "+15551230000"},
		{name: "letters", number: "0800-FLOWERS", class: ClassInvalid},
		{name: "plus in the middle", number: "44+20", class: ClassInvalid},
		{name: "empty", number: "", class: ClassInvalid},
		{name: "bare zero", number: "0", class: ClassInvalid},
		{name: "bare plus", number: "+", class: ClassInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class, norm := Classify(tt.number)
			if class != tt.class || norm != tt.norm {
				t.Fatalf("Classify(%q) = %v, %q; want %v, %q", tt.number, class, norm, tt.class, tt.norm)
			}
		})
	}
}

func TestPermitted(t *testing.T) {
	numbers := map[Class]string{
		ClassEmergency:     "999",
		ClassNational:      "02079460000",
		ClassMobile:        "07700900000",
		ClassPremium:       "09098790000",
		ClassInternational: "+12025550100",
		ClassInvalid:       "12345",
	}
	tests := []struct {
		policy  string
		allowed []Class
	}{
		{policy: PolicyInternalOnly, allowed: []Class{ClassEmergency}},
		{policy: PolicyNational, allowed: []Class{ClassEmergency, ClassNational}},
		{policy: PolicyUKOnly, allowed: []Class{ClassEmergency, ClassNational, ClassMobile}},
		{policy: PolicyInternational, allowed: []Class{ClassEmergency, ClassNational, ClassMobile, ClassPremium, ClassInternational}},
		{policy: "no_such_policy", allowed: []Class{ClassEmergency}},
		{policy: "", allowed: []Class{ClassEmergency}},
	}
	for _, tt := range tests {
		for class, number := range numbers {
			want := false
			for _, a := range tt.allowed {
				if a == class {
					want = true
				}
			}
			t.Run(tt.policy+"/"+class.String(), func(t *testing.T) {
				if got := Permitted(tt.policy, number); got != want {
					t.Fatalf("Permitted(%q, %q) = %v, want %v", tt.policy, number, got, want)
				}
			})
		}
	}
}
