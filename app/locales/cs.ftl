## Czech catalog (default language). Keys match en.ftl one to one; a unit test checks it.

app-name = mojeID
skip-to-content = Přeskočit na obsah
nav-label = Hlavní navigace
nav-settings = Nastavení
nav-login = Přihlásit se
nav-register = Založit účet
nav-logout = Odhlásit se
nav-logged-in-as = Přihlášen(a) jako { $username }
lang-other = English
lang-other-code = en
footer-text = mojeID – účet pro přístup ke službám veřejné správy
working = Pracuji…

login-title = Přihlášení
login-intro = Přihlaste se ke svému účtu mojeID.
field-username = Uživatelské jméno
field-password = Heslo
login-submit = Přihlásit se
login-no-account = Nemáte účet?
login-create = Založte si ho
login-logged-out = Byli jste odhlášeni.
login-again = Přihlaste se prosím.
login-key-title = Potvrďte přihlášení bezpečnostním klíčem
login-key-waiting = Připojte bezpečnostní klíč a potvrďte na něm přihlášení.
login-key-again = Zkusit znovu
reauth-title = Ověřte, že jste to vy
reauth-intro = Pro tuto akci se znovu přihlaste heslem a bezpečnostním klíčem.
reauth-submit = Pokračovat
password-show = Zobrazit heslo
password-hide = Skrýt heslo

register-title = Založení účtu
register-intro = Účet mojeID vám po ověření totožnosti zpřístupní služby veřejné správy.
register-username-hint = 3 až 64 znaků: malá písmena bez diakritiky, číslice, tečka, podtržítko a pomlčka.
register-password-hint = Alespoň 15 znaků. Nejlépe poslouží věta, kterou si zapamatujete. Běžná a snadno uhodnutelná hesla nepřijímáme.
register-submit = Založit účet
register-have-account = Už máte účet?

settings-title = Nastavení
settings-intro = Zde spravujete svůj profil a kontaktní údaje.
section-account = Účet
section-profile = Profil
section-contacts = Kontakty
profile-edit = Upravit profil
contacts-manage = Spravovat kontakty
value-not-set = nevyplněno
account-created = Účet založen

profile-title = Profil
profile-intro = Údaje vyplňte tak, jak jsou uvedeny v registru obyvatel.
field-first-name = Jméno
field-last-name = Příjmení
field-birth-date = Datum narození
field-birth-date-hint = Například 31. 12. 1980
address-legend = Trvalé bydliště
field-street = Ulice
field-street-hint = Nemá-li obec ulice, nechte prázdné.
field-house-number = Číslo popisné / orientační
field-city = Obec
field-postcode = PSČ
field-country = Stát
field-organization = Organizace
field-organization-hint = Vyplňte jen tehdy, pokud účet používáte za organizaci.
country-CZ = Česká republika
country-SK = Slovensko
country-AT = Rakousko
country-DE = Německo
country-PL = Polsko
profile-save = Uložit profil
profile-saved = Profil byl uložen.
back-to-settings = Zpět do nastavení

contacts-title = Kontakty
contacts-intro = E-mail a telefon ověříme jednorázovým kódem. Nová adresa začne platit, až kód zadáte.
contacts-email = E-mail
contacts-phone = Telefon
contact-verified = ověřeno { $date }
contact-none = zatím nezadáno
field-email-new = Nová e-mailová adresa
field-email-hint = Například jana.novakova@example.cz
field-phone-new = Nové telefonní číslo
field-phone-hint = Například +420 777 123 456
send-code = Poslat kód
code-sent = Kód jsme poslali na { $address }. Platí do { $time }.
field-email-code = Kód z e-mailu
field-phone-code = Kód z SMS
field-code-hint = Šest číslic.
verify-code = Ověřit
contact-verified-now = Adresa { $address } je ověřena.

message-email-code-subject = Ověřovací kód mojeID
message-email-code-body = Dobrý den,

    váš ověřovací kód pro mojeID je { $code }. Platí 15 minut.

    Pokud jste o kód nežádali, zprávu ignorujte.

    Tým mojeID
message-sms-code = mojeID: váš ověřovací kód je { $code }. Platí 15 minut.

err-required = Vyplňte toto pole.
err-too-short = { $min ->
        [one] Zadejte alespoň { $min } znak.
        [few] Zadejte alespoň { $min } znaky.
       *[other] Zadejte alespoň { $min } znaků.
    }
err-too-long = { $max ->
        [one] Zadejte nejvýše { $max } znak.
        [few] Zadejte nejvýše { $max } znaky.
       *[other] Zadejte nejvýše { $max } znaků.
    }
err-username-chars = Použijte jen malá písmena bez diakritiky, číslice, tečku, podtržítko a pomlčku.
err-username-taken = Toto uživatelské jméno už je obsazené. Zvolte prosím jiné.
err-invalid-chars = Pole obsahuje nepovolené znaky.
err-password-common = Toto heslo je příliš běžné nebo snadno uhodnutelné. Zvolte jiné, třeba delší větu.
err-password-username = Heslo nesmí obsahovat uživatelské jméno.
err-email = Zadejte e-mailovou adresu ve tvaru jmeno@example.cz.
err-phone = Zadejte telefonní číslo ve tvaru +420 777 123 456.
err-date = Zadejte platné datum ve tvaru 31. 12. 1980.
err-date-future = Datum narození nemůže být v budoucnosti.
err-date-old = Zadejte datum narození po roce 1900.
err-postcode = Zadejte PSČ, například 110 00.
err-country = Vyberte stát ze seznamu.
err-address-incomplete = Adresa je neúplná: vyplňte i toto pole.
err-code-wrong = Kód není správný. Zkontrolujte ho a zkuste to znovu.
err-code-expired = Platnost kódu vypršela. Nechte si poslat nový.
err-code-missing = Nejdříve si nechte poslat kód.
err-code-exhausted = Příliš mnoho chybných pokusů. Nechte si poslat nový kód.
err-too-many-codes = Kódů jsme poslali příliš mnoho. Další si můžete vyžádat za { $minutes } min.
err-bad-credentials = Nesprávné uživatelské jméno nebo heslo.
err-throttled = Příliš mnoho neúspěšných pokusů o přihlášení. Zkuste to znovu za { $minutes } min.
err-too-many-registrations = Z vaší adresy bylo založeno příliš mnoho účtů. Zkuste to znovu za { $minutes } min.
err-step-up = Z bezpečnostních důvodů se nejdříve znovu přihlaste heslem a bezpečnostním klíčem; pak můžete přidat další klíč.
err-step-up-system = Účet má systémový bezpečnostní klíč (Windows Hello nebo Android). Nový klíč přidejte na tomto zařízení hned po přihlášení jeho systémovým klíčem.
err-bad-key = Bezpečnostní klíč nebyl přijat. Použijte klíč přidaný k tomuto účtu.
err-key-already-registered = Tento bezpečnostní klíč už je k účtu přidán.
err-not-authenticated = Vaše přihlášení vypršelo. Přihlaste se prosím znovu.
err-account-inactive = Účet je zablokovaný. Obraťte se prosím na podporu.
err-overloaded = Služba je právě přetížená. Zkuste to prosím za chvíli znovu.
err-forbidden = Požadavek byl odmítnut. Obnovte stránku a zkuste to znovu.
err-internal = Něco se pokazilo na naší straně a nic se neuložilo. Zkuste to prosím znovu; pokud potíže trvají, kontaktujte podporu.
err-network = Nepodařilo se spojit se serverem. Zkontrolujte připojení a zkuste to znovu.
form-has-errors = Formulář obsahuje chyby. Opravte prosím označená pole.

certified-title = Certifikované bezpečnostní klíče
certified-intro = Pro propojení s NIA musí být účet zabezpečen bezpečnostním klíčem s certifikací FIDO_CERTIFIED_L1 nebo vyšší. Seznam vychází z metadat FIDO Alliance.
certified-search = Hledat podle názvu nebo AAGUID
certified-filter = Zobrazit
certified-filter-all = všechny modely
certified-filter-nia = použitelné pro NIA (L1 a vyšší)
certified-filter-l2 = úroveň L2 a vyšší
certified-filter-none = nepoužitelné pro NIA
certified-sort = Řadit podle
certified-sort-level = úrovně certifikace
certified-sort-name = názvu
certified-apply = Zobrazit
certified-count = Zobrazeno { $shown } z { $total } modelů.
certified-caption = Modely autentizátorů a jejich certifikace
certified-col-name = Model
certified-col-level = Úroveň certifikace
certified-col-nia = Pro NIA
certified-col-type = Druh
certified-col-protocol = Protokol
certified-col-date = Certifikováno
certified-nia-yes = ano
certified-nia-no = ne
certified-nia-problem = ne – { $problem } od { $date }
certified-form-platform = vestavěný v zařízení
certified-form-roaming = samostatný klíč
certified-form-unknown = neuvedeno
certified-source = Metadata FIDO Alliance platná do { $date }.

check-title = Test bezpečnostního klíče
check-intro = Vyzkoušejte svůj bezpečnostní klíč bez účtu: uvidíte, jak ho server rozpozná – model, úroveň certifikace a zda ho lze použít pro přístup ke službám veřejné správy.
check-step-insert = Připojte bezpečnostní klíč přímo k zařízení (ne přes dokovací stanici nebo prodlužovací kabel).
check-step-press = Klikněte na „Vyzkoušet klíč“ a potvrďte na klíči.
check-step-allow = Když se prohlížeč zeptá, povolte webu mojeID přístup k bezpečnostnímu klíči – jinak nelze zjistit jeho certifikaci.
check-start = Vyzkoušet klíč
check-waiting = Čekám na bezpečnostní klíč…
check-unsupported = Tento prohlížeč bezpečnostní klíče nepodporuje. Doporučujeme aktuální Google Chrome.
check-cancelled = Prohlížeč od klíče nedostal odpověď (akce byla zrušena nebo vypršel čas). Zkuste to znovu.
check-expired = Test vypršel. Spusťte ho prosím znovu.
check-refused = Registration failed, incorrect data from security key. / Registrace selhala, nesprávná data z bezpečnostního klíče.
check-result = Výsledek testu
check-format = Formát atestace
check-model = Model
check-model-unknown = není v metadatech FIDO Alliance
check-kind = Druh
check-chain = Řetězec certifikátů
check-chain-valid = platný, vede ke kořeni výrobce
check-chain-invalid = neplatný
check-chain-unchecked = neověřen: model není v metadatech, a tak není známý kořen výrobce
check-chain-none = klíč certifikát neposkytl
check-none = žádný
check-nia-yes = ano
check-nia-no = ne
check-download = Stáhnout výsledek (JSON) pro technickou podporu
check-privacy = Test nic neukládá k žádnému účtu.
kind-hardware = hardwarový klíč
kind-windows_hello = Windows Hello (systémový klíč)
kind-android = Android (systémový klíč)
kind-apple = zařízení Apple
kind-unknown = nezjištěn
reason-attestation-hidden = Prohlížeč webu mojeID nepovolil přístup k bezpečnostnímu klíči, takže nelze zjistit jeho certifikaci. Při přidávání klíče přístup povolte.
reason-self-attestation = Klíč se prokázal jen sám sebou (self attestation), bez certifikátu výrobce.
reason-apple = Zařízení Apple neuvádějí model klíče; pro služby veřejné správy je nelze použít.
reason-safetynet = Atestaci Android SafetyNet nelze ověřit (Google ji ukončil). Použijte hardwarový klíč nebo Windows Hello.
reason-unknown-model = Model klíče není v metadatech FIDO Alliance.
reason-chain-invalid = Certifikát klíče nevede ke kořeni výrobce uvedenému v metadatech ({ $detail }).
reason-level-too-low = Certifikace { $detail } nestačí; potřebná je FIDO_CERTIFIED_L1 nebo vyšší.
reason-problem = FIDO Alliance u tohoto modelu hlásí problém: { $detail }.

section-2fa = Dvoufázové ověření
section-2fa-text = Bezpečnostní klíč chrání účet i při vyzrazení hesla a je podmínkou propojení s NIA.
keys-title = Bezpečnostní klíče
keys-intro = Po přidání bezpečnostního klíče se k účtu přihlásíte heslem a klíčem. U každého klíče vidíte jeho úroveň certifikace; pro NIA je potřeba FIDO_CERTIFIED_L1 nebo vyšší.
keys-advice-several = Doporučujeme přidat více klíčů: při ztrátě jednoho se přihlásíte druhým.
keys-advice-system = Nekombinujte Windows Hello s hardwarovým klíčem a nespoléhejte jen na jedno zařízení.
keys-advice-browser = Klíče přidávejte v aktuálním Google Chrome a povolte webu mojeID přístup ke klíči.
keys-none = Zatím nemáte žádný bezpečnostní klíč.
keys-caption = Vaše bezpečnostní klíče
keys-col-name = Název
keys-col-added = Přidán
keys-col-used = Naposledy použit
keys-never = zatím nikdy
keys-col-actions = Akce
keys-rename = Přejmenovat
keys-save = Uložit
keys-cancel = Zrušit
keys-remove = Odebrat
keys-remove-yes = Ano, odebrat
keys-remove-confirm = Odebrat klíč „{ $name }“? Přihlásíte se pak ostatními klíči. Z bezpečnostních důvodů může být potřeba se nejdříve znovu přihlásit.
keys-remove-confirm-last = Odebrat klíč „{ $name }“? Je to poslední klíč: účet pak bude chráněn jen heslem a nepůjde propojit s NIA. Z bezpečnostních důvodů může být potřeba se nejdříve znovu přihlásit.
keys-add-title = Přidat bezpečnostní klíč
keys-name = Název klíče
keys-name-hint = Například „Modrý klíč na klíčích“; pomůže vám klíče rozlišit.
keys-add = Přidat bezpečnostní klíč
keys-added = Klíč byl přidán.
keys-added-eligible = Lze ho použít pro NIA.
keys-added-not-eligible = Pro NIA ho použít nelze.

not-found-title = Stránka nenalezena
not-found-text = Stránka na této adrese neexistuje.
go-home = Přejít na úvodní stránku
loading = Načítám…
