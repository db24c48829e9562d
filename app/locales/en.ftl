## English catalog. Keys match cs.ftl one to one; a unit test checks it.

app-name = mojeID
skip-to-content = Skip to main content
nav-label = Main navigation
nav-settings = Settings
nav-login = Log in
nav-register = Create account
nav-logout = Log out
nav-logged-in-as = Logged in as { $username }
lang-other = Čeština
lang-other-code = cs
footer-text = mojeID – an account for public administration services
working = Working…

login-title = Log in
login-intro = Log in to your mojeID account.
field-username = Username
field-password = Password
login-submit = Log in
login-no-account = No account yet?
login-create = Create one
login-logged-out = You have been logged out.
login-again = Please log in.
password-show = Show password
password-hide = Hide password

register-title = Create account
register-intro = Once your identity is verified, a mojeID account gives you access to public administration services.
register-username-hint = 3 to 64 characters: lower-case letters a–z, digits, dot, underscore and hyphen.
register-password-hint = At least 15 characters. A sentence you can remember works best. Common and easily guessed passwords are not accepted.
register-submit = Create account
register-have-account = Already have an account?

settings-title = Settings
settings-intro = Manage your profile and contact details here.
section-account = Account
section-profile = Profile
section-contacts = Contacts
profile-edit = Edit profile
contacts-manage = Manage contacts
value-not-set = not filled in
account-created = Account created

profile-title = Profile
profile-intro = Fill in your details as they appear in the population register.
field-first-name = First name
field-last-name = Last name
field-birth-date = Birth date
field-birth-date-hint = For example 31. 12. 1980
address-legend = Permanent address
field-street = Street
field-street-hint = Leave empty if your municipality has no streets.
field-house-number = House number
field-city = City
field-postcode = Postcode
field-country = Country
field-organization = Organization
field-organization-hint = Fill in only if you use the account for an organization.
country-CZ = Czech Republic
country-SK = Slovakia
country-AT = Austria
country-DE = Germany
country-PL = Poland
profile-save = Save profile
profile-saved = Your profile has been saved.
back-to-settings = Back to settings

contacts-title = Contacts
contacts-intro = We verify your e-mail and phone with a one-time code. A new address takes effect once you enter its code.
contacts-email = E-mail
contacts-phone = Phone
contact-verified = verified { $date }
contact-none = not set yet
field-email-new = New e-mail address
field-email-hint = For example jana.novakova@example.cz
field-phone-new = New phone number
field-phone-hint = For example +420 777 123 456
send-code = Send code
code-sent = We sent a code to { $address }. It is valid until { $time }.
field-email-code = Code from the e-mail
field-phone-code = Code from the SMS
field-code-hint = Six digits.
verify-code = Verify
contact-verified-now = { $address } is verified.

message-email-code-subject = mojeID verification code
message-email-code-body = Hello,

    your mojeID verification code is { $code }. It is valid for 15 minutes.

    If you did not ask for a code, ignore this message.

    The mojeID team
message-sms-code = mojeID: your verification code is { $code }. It is valid for 15 minutes.

err-required = Fill in this field.
err-too-short = Enter at least { $min } characters.
err-too-long = Enter at most { $max } characters.
err-username-chars = Use only lower-case letters a–z, digits, dot, underscore and hyphen.
err-username-taken = This username is already taken. Please choose another.
err-invalid-chars = This field contains characters that are not allowed.
err-password-common = This password is too common or easy to guess. Choose another one, such as a longer sentence.
err-password-username = The password must not contain your username.
err-email = Enter an e-mail address like name@example.com.
err-phone = Enter a phone number like +420 777 123 456.
err-date = Enter a valid date like 31. 12. 1980.
err-date-future = A birth date cannot be in the future.
err-date-old = Enter a birth date after 1900.
err-postcode = Enter a postcode, for example 110 00.
err-country = Choose a country from the list.
err-address-incomplete = The address is incomplete: fill in this field too.
err-code-wrong = The code is not correct. Check it and try again.
err-code-expired = The code has expired. Ask for a new one.
err-code-missing = Ask for a code first.
err-code-exhausted = Too many wrong attempts. Ask for a new code.
err-too-many-codes = We have sent too many codes. You can ask for another in { $minutes } min.
err-bad-credentials = Incorrect username or password.
err-throttled = Too many failed login attempts. Try again in { $minutes } min.
err-too-many-registrations = Too many accounts have been created from your address. Try again in { $minutes } min.
err-not-authenticated = Your login has expired. Please log in again.
err-account-inactive = This account is blocked. Please contact support.
err-overloaded = The service is busy right now. Please try again in a moment.
err-forbidden = The request was refused. Reload the page and try again.
err-internal = Something went wrong on our side and nothing was saved. Please try again; if it keeps happening, contact support.
err-network = Could not reach the server. Check your connection and try again.
form-has-errors = The form has errors. Please correct the marked fields.

certified-title = Certified security keys
certified-intro = To link your account with NIA it must be secured with a security key certified FIDO_CERTIFIED_L1 or higher. The list comes from the FIDO Alliance's metadata.
certified-search = Search by name or AAGUID
certified-filter = Show
certified-filter-all = all models
certified-filter-nia = usable for NIA (L1 or higher)
certified-filter-l2 = level L2 or higher
certified-filter-none = not usable for NIA
certified-sort = Sort by
certified-sort-level = certification level
certified-sort-name = name
certified-apply = Show
certified-count = Showing { $shown } of { $total } models.
certified-caption = Authenticator models and their certification
certified-col-name = Model
certified-col-level = Certification level
certified-col-nia = For NIA
certified-col-type = Kind
certified-col-protocol = Protocol
certified-col-date = Certified
certified-nia-yes = yes
certified-nia-no = no
certified-nia-problem = no – { $problem } since { $date }
certified-form-platform = built into the device
certified-form-roaming = separate key
certified-form-unknown = not stated
certified-source = FIDO Alliance metadata valid until { $date }.

not-found-title = Page not found
not-found-text = There is no page at this address.
go-home = Go to the home page
loading = Loading…
