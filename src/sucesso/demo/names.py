"""Who the demo company sells to: people, company names, industries, countries, roles.

One `Names` vocabulary per language ("pt_BR", "en"). The generator only draws indices
into these lists, so every language yields the same company with different words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Names:
    first_names: tuple[str, ...]
    surnames: tuple[str, ...]
    # industry label → business kinds that read well before a surname ("Padaria Silva")
    industries: dict[str, tuple[str, ...]]
    # invented brand words that read well before a kind ("Horizonte Logística")
    brands: tuple[str, ...]
    suffixes: tuple[str, ...]  # legal forms; "" = none
    suffix_weights: tuple[float, ...]
    countries: tuple[str, ...]  # ISO 3166 alpha-2
    country_weights: tuple[float, ...]
    contact_roles: tuple[str, ...]  # first one is the buyer / decision maker
    attribute_keys: tuple[str, str]  # custom fields: (erp, source)
    erps: tuple[str, ...]
    sources: dict[str, str]  # acquisition source code → how the CRM field spells it
    pooled_csm: str
    staff_domain: str
    surname_first: bool = False  # "Smith Bakery" rather than "Padaria Silva"


PT_BR = Names(
    first_names=(
        "Ana", "Beatriz", "Camila", "Carla", "Daniela", "Fernanda", "Gabriela", "Juliana",
        "Larissa", "Letícia", "Luana", "Mariana", "Patrícia", "Renata", "Tatiane", "Vanessa",
        "Aline", "Bruna", "Cristina", "Débora", "Isabela", "Jéssica", "Priscila", "Sabrina",
        "André", "Bruno", "Carlos", "Daniel", "Diego", "Eduardo", "Felipe", "Gustavo",
        "Henrique", "João", "José", "Leandro", "Lucas", "Marcelo", "Mateus", "Paulo",
        "Rafael", "Ricardo", "Rodrigo", "Thiago", "Vinícius", "Wagner", "Fábio", "Otávio",
    ),
    surnames=(
        "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
        "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes",
        "Soares", "Fernandes", "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade",
        "Moreira", "Nunes", "Marques", "Machado", "Mendes", "Freitas", "Cardoso", "Ramos",
        "Gonçalves", "Santana", "Teixeira", "Araújo", "Pinto", "Campos", "Correia", "Moura",
    ),
    industries={
        "Varejo": ("Comércio", "Loja", "Mercado", "Magazine", "Distribuidora"),
        "Alimentação": ("Padaria", "Restaurante", "Confeitaria", "Pizzaria", "Laticínios"),
        "Saúde": ("Clínica", "Farmácia", "Laboratório", "Odontologia", "Centro Médico"),
        "Educação": ("Escola", "Colégio", "Instituto", "Centro de Idiomas", "Faculdade"),
        "Indústria": ("Metalúrgica", "Indústria", "Plásticos", "Têxtil", "Embalagens"),
        "Logística": ("Transportadora", "Logística", "Cargas", "Armazéns", "Mudanças"),
        "Serviços": ("Consultoria", "Assessoria", "Serviços", "Soluções", "Gestão"),
        "Tecnologia": ("Tecnologia", "Sistemas", "Informática", "Software", "Digital"),
        "Construção": ("Construtora", "Engenharia", "Incorporadora", "Materiais", "Obras"),
        "Agronegócio": ("Agropecuária", "Fazenda", "Sementes", "Cooperativa", "Agroindústria"),
        "Contabilidade": ("Contabilidade", "Escritório Contábil", "Assessoria Contábil"),
    },
    brands=(
        "Horizonte", "Nova Era", "Aurora", "Sol Nascente", "Bela Vista", "Primavera",
        "Estrela", "Atlântico", "Ipê", "Jequitibá", "Pampa", "Cerrado", "Serra Azul",
        "Boa Esperança", "Vale Verde", "Rio Claro", "Litoral", "Paulista", "Mineira",
        "Capixaba", "Gaúcha", "Nordeste", "Guanabara", "Itapuã", "Tropical", "Amazônia",
    ),
    suffixes=("Ltda", "S.A.", "ME", "EIRELI", ""),
    suffix_weights=(0.55, 0.08, 0.14, 0.05, 0.18),
    countries=("BR", "PT", "AR", "MX", "US"),
    country_weights=(0.90, 0.03, 0.025, 0.025, 0.02),
    contact_roles=(
        "Sócio(a)-diretor(a)", "Gerente de Operações", "Analista Financeiro(a)",
        "Coordenador(a) de TI", "Assistente Administrativo(a)", "Gerente Comercial",
        "Analista de Sistemas", "Supervisor(a) de Atendimento", "Controller",
    ),
    attribute_keys=("erp", "origem"),
    erps=("totvs", "sap", "omie", "bling", "sankhya", "senior", "nenhum"),
    sources={
        "google_ads": "google", "meta_ads": "instagram", "events": "evento",
        "outbound": "prospecção", "partners": "parceiro", "organic": "orgânico",
        "referral": "indicação",
    },
    pooled_csm="Equipe Digital",
    staff_domain="sucesso-demo.example",
)

EN = Names(
    first_names=(
        "Emma", "Olivia", "Ava", "Sophia", "Mia", "Charlotte", "Amelia", "Harper",
        "Evelyn", "Abigail", "Emily", "Ella", "Grace", "Chloe", "Nora", "Lily",
        "Liam", "Noah", "Oliver", "James", "Elijah", "William", "Henry", "Lucas",
        "Benjamin", "Theodore", "Jack", "Samuel", "Daniel", "Michael", "David", "Owen",
    ),
    surnames=(
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
        "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White",
        "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King",
        "Wright", "Scott", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter",
    ),
    industries={
        "Retail": ("Market", "Outfitters", "Supply", "Goods", "Mercantile"),
        "Food & Beverage": ("Bakery", "Kitchen", "Foods", "Creamery", "Brewing"),
        "Healthcare": ("Clinic", "Pharmacy", "Dental", "Medical Group", "Labs"),
        "Education": ("Academy", "Learning Center", "School", "Institute", "Tutoring"),
        "Manufacturing": ("Manufacturing", "Industries", "Plastics", "Metalworks", "Packaging"),
        "Logistics": ("Freight", "Logistics", "Transport", "Warehousing", "Movers"),
        "Professional Services": ("Consulting", "Advisors", "Partners", "Services", "Group"),
        "Technology": ("Technologies", "Systems", "Software", "Labs", "Digital"),
        "Construction": ("Construction", "Builders", "Engineering", "Contractors", "Homes"),
        "Agriculture": ("Farms", "Seeds", "Growers", "Cooperative", "Agro"),
        "Accounting": ("Accounting", "CPAs", "Bookkeeping", "Tax Services"),
    },
    brands=(
        "Horizon", "New Era", "Aurora", "Sunrise", "Bella Vista", "Springfield",
        "North Star", "Atlantic", "Redwood", "Evergreen", "Prairie", "Blue Ridge",
        "Silver Lake", "Good Hope", "Green Valley", "Clearwater", "Coastal", "Summit",
        "Lakeside", "Riverside", "Granite", "Maple", "Harbor", "Pioneer", "Liberty", "Oak",
    ),
    suffixes=("LLC", "Inc.", "Co.", "Ltd.", ""),
    suffix_weights=(0.45, 0.2, 0.1, 0.05, 0.2),
    countries=("US", "CA", "GB", "MX", "BR"),
    country_weights=(0.82, 0.06, 0.06, 0.03, 0.03),
    contact_roles=(
        "Founder & CEO", "Operations Manager", "Financial Analyst", "IT Coordinator",
        "Office Assistant", "Sales Manager", "Systems Analyst", "Support Supervisor",
        "Controller",
    ),
    attribute_keys=("erp", "source"),
    erps=("netsuite", "sap", "quickbooks", "xero", "dynamics", "sage", "none"),
    sources={
        "google_ads": "google", "meta_ads": "instagram", "events": "event",
        "outbound": "outbound", "partners": "partner", "organic": "organic",
        "referral": "referral",
    },
    pooled_csm="Digital CS Team",
    staff_domain="sucesso-demo.example",
    surname_first=True,
)

LANGUAGES: dict[str, Names] = {"pt_BR": PT_BR, "en": EN}


def names_for(language: str) -> Names:
    try:
        return LANGUAGES[language]
    except KeyError:
        known = ", ".join(LANGUAGES)
        raise ValueError(f"unknown demo language {language!r}; choose one of: {known}") from None


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: "Padaria São João" → "padariasaojoao"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def company_name(names: Names, pattern: int, kind: str, a: str, b: str, brand: str, suffix: str) -> str:
    """A company name in one of three shapes: surname + kind, brand + kind, two partners."""
    if pattern == 0:
        core = f"{a} {kind}" if names.surname_first else f"{kind} {a}"
    elif pattern == 1:
        core = f"{brand} {kind}"
    else:
        core = f"{a} & {b} {kind}"
    return f"{core} {suffix}" if suffix else core
