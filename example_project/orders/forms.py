from django import forms


class PaymentForm(forms.Form):
    """A simulated card form: any 16 digits pay, a number ending in 0002 is declined."""

    card_number = forms.CharField(
        max_length=23, initial="4242 4242 4242 4242", help_text="Use 4000 0000 0000 0002 to fail."
    )

    def clean_card_number(self) -> str:
        digits = "".join(ch for ch in self.cleaned_data["card_number"] if ch.isdigit())
        if len(digits) != 16:
            raise forms.ValidationError("Enter the 16 digits of the card.")
        return digits

    @property
    def declined(self) -> bool:
        number: str = self.cleaned_data["card_number"]
        return number.endswith("0002")
