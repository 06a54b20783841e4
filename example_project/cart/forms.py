from django import forms


class AddToCartForm(forms.Form):
    sku = forms.CharField(max_length=64)
    quantity = forms.IntegerField(min_value=1, max_value=99, initial=1)


class QuantityForm(forms.Form):
    sku = forms.CharField(max_length=64)
    quantity = forms.IntegerField(min_value=0, max_value=99)
