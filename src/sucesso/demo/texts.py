"""What people write: feature names, survey comments, CS notes, churn reasons, per language.

Comments come in sentiment buckets so a detractor never writes a promoter's praise; the
generator picks a bucket from the score, then a sentence (or two) from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations


@dataclass(frozen=True)
class Texts:
    features: dict[str, str]  # usage event → display name
    nps: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # detractor, passive, promoter
    csat: tuple[tuple[str, ...], tuple[str, ...]]  # unsatisfied, satisfied
    ces: tuple[tuple[str, ...], tuple[str, ...]]  # hard, easy
    notes: dict[str, tuple[str, ...]]  # CS activity kind → notes
    reasons: dict[str, tuple[str, ...]]  # churn reason code → what the customer said


def with_pairs(sentences: tuple[str, ...], limit: int = 40) -> tuple[str, ...]:
    """The sentences alone plus some two-sentence combinations, for variety."""
    pairs = [f"{a} {b}" for a, b in permutations(sentences, 2)][:limit]
    return sentences + tuple(pairs)


PT_BR = Texts(
    features={
        "login": "Acesso ao sistema",
        "dashboard_viewed": "Painel visualizado",
        "record_created": "Registro criado",
        "record_updated": "Registro atualizado",
        "search_performed": "Busca realizada",
        "comment_added": "Comentário adicionado",
        "file_uploaded": "Arquivo enviado",
        "integration_connected": "Integração conectada",
        "user_invited": "Usuário convidado",
        "workflow_created": "Fluxo de trabalho criado",
        "report_exported": "Relatório exportado",
        "automation_run": "Automação executada",
    },
    nps=(
        (
            "O sistema fica fora do ar com frequência.",
            "O suporte demora dias para responder.",
            "Caro para o que entrega.",
            "Faltam funcionalidades básicas que o concorrente já tem.",
            "Tivemos muitos problemas na implantação.",
            "A equipe não conseguiu se adaptar à ferramenta.",
            "A cobrança veio errada duas vezes.",
            "Hoje não vejo valor no produto.",
            "Os relatórios não batem com o nosso ERP.",
        ),
        (
            "Atende bem, mas poderia ter mais integrações.",
            "Bom sistema, porém o preço subiu bastante.",
            "Gostamos, mas alguns relatórios são lentos.",
            "Funciona, mas a interface poderia ser mais intuitiva.",
            "No geral é bom, falta um aplicativo melhor no celular.",
            "O suporte é bom, mas demora em horário de pico.",
            "Resolve o básico, esperamos mais novidades.",
        ),
        (
            "Sistema muito fácil de usar, recomendo!",
            "O suporte sempre responde rápido.",
            "Os relatórios economizam horas da nossa equipe.",
            "Excelente custo-benefício.",
            "O fechamento do mês ficou muito mais rápido.",
            "A integração com o ERP funcionou de primeira.",
            "O atendimento da nossa CSM é nota 10.",
            "Ferramenta essencial para o nosso dia a dia.",
            "As automações mudaram a rotina do time.",
        ),
    ),
    csat=(
        (
            "Demoraram para resolver.",
            "Precisei explicar o problema várias vezes.",
            "A solução não resolveu de verdade.",
            "Fui transferido para três pessoas diferentes.",
        ),
        (
            "Atendimento rápido e cordial.",
            "Resolveram no primeiro contato, obrigado!",
            "Explicação clara, deu tudo certo.",
            "Muito atenciosos.",
        ),
    ),
    ces=(
        ("Foi difícil encontrar onde abrir o chamado.", "Processo confuso e demorado."),
        ("Foi simples resolver.", "Tudo muito prático."),
    ),
    notes={
        "onboarding": (
            "Kickoff de implantação com o time do cliente; definido o plano de 30 dias.",
            "Configuração da integração com o ERP e importação dos cadastros.",
            "Sessão de onboarding: criação dos primeiros fluxos de trabalho.",
            "Revisão do checklist de implantação; pendências com a TI do cliente.",
        ),
        "training": (
            "Treinamento de relatórios para a equipe financeira.",
            "Treinamento de automações para os usuários avançados.",
            "Webinar de boas práticas com novos usuários.",
        ),
        "success_review": (
            "Revisão trimestral: apresentados resultados de uso e metas do próximo trimestre.",
            "QBR com a diretoria; cliente satisfeito com a economia de tempo.",
            "Revisão de sucesso: mapeadas oportunidades de uso das automações.",
        ),
        "proactive_call": (
            "Queda de uso percebida; ligação para entender a rotina atual.",
            "Contato proativo após queda no health score.",
            "Ligação proativa: usuário principal saiu da empresa, novo responsável indicado.",
        ),
        "follow_up": (
            "Follow-up da resposta de NPS; combinado plano de ação.",
            "Retorno sobre pendências do último contato.",
            "Acompanhamento semanal do plano de recuperação.",
        ),
        "delinquency_call": (
            "Fatura em atraso; cliente informou que vai regularizar.",
            "Contato de cobrança; enviada segunda via do boleto.",
            "Cliente pediu prorrogação do vencimento.",
        ),
        "rescue_call": (
            "Reunião de retenção após pedido de cancelamento.",
            "Proposta de desconto temporário para reverter o cancelamento.",
            "Ligação de resgate com o decisor; apresentado plano de adoção.",
        ),
        "expansion_meeting": (
            "Apresentação do plano superior e das funcionalidades avançadas.",
            "Negociação de novas licenças para outra filial.",
        ),
    },
    reasons={
        "price": ("Achou o valor alto para o momento da empresa.", "Reajuste anual pesou."),
        "switched_competitor": (
            "Migrou para um concorrente com preço menor.",
            "Matriz padronizou outra ferramenta.",
        ),
        "low_usage": ("A equipe quase não usa o sistema.", "Não conseguiram engajar os usuários."),
        "missing_feature": (
            "Precisa de emissão de nota fiscal integrada.",
            "Falta um aplicativo móvel completo.",
        ),
        "bad_support": ("Reclamou da demora do suporte.", "Chamados abertos sem solução."),
        "business_closed": ("A empresa encerrou as atividades.", "Empresa foi vendida."),
        "budget_cut": ("Corte de custos na empresa.", "Orçamento de TI congelado."),
        "payment_failure": ("Faturas em aberto há mais de 60 dias.", "Cartão recusado várias vezes."),
        "no_value": ("Diz que não viu resultado.",),
        "other": ("Motivo não detalhado pelo cliente.",),
        "unknown": (),
    },
)

EN = Texts(
    features={
        "login": "Signed in",
        "dashboard_viewed": "Dashboard viewed",
        "record_created": "Record created",
        "record_updated": "Record updated",
        "search_performed": "Search performed",
        "comment_added": "Comment added",
        "file_uploaded": "File uploaded",
        "integration_connected": "Integration connected",
        "user_invited": "User invited",
        "workflow_created": "Workflow created",
        "report_exported": "Report exported",
        "automation_run": "Automation ran",
    },
    nps=(
        (
            "The system goes down too often.",
            "Support takes days to answer.",
            "Too expensive for what it delivers.",
            "Basic features the competitor has are missing.",
            "The implementation was full of problems.",
            "Our team never got used to the tool.",
            "We were billed wrongly twice.",
            "We don't see value in the product today.",
            "Reports don't match our ERP.",
        ),
        (
            "Works well, but it needs more integrations.",
            "Good product, though the price went up a lot.",
            "We like it, but some reports are slow.",
            "It works, but the interface could be more intuitive.",
            "Good overall; the mobile app needs work.",
            "Support is good but slow at peak times.",
            "Covers the basics, we expect more new features.",
        ),
        (
            "Very easy to use, I recommend it!",
            "Support always answers quickly.",
            "The reports save our team hours.",
            "Great value for money.",
            "Our month-end close got much faster.",
            "The ERP integration worked on the first try.",
            "Our CSM is outstanding.",
            "An essential tool for our day to day.",
            "Automations changed how the team works.",
        ),
    ),
    csat=(
        (
            "It took too long to fix.",
            "I had to explain the problem several times.",
            "The fix didn't really solve it.",
            "I was passed around three people.",
        ),
        (
            "Fast and friendly.",
            "Solved on the first contact, thanks!",
            "Clear explanation, all good now.",
            "Very helpful.",
        ),
    ),
    ces=(
        ("Hard to find where to open a ticket.", "Confusing, slow process."),
        ("It was simple to sort out.", "Very straightforward."),
    ),
    notes={
        "onboarding": (
            "Implementation kickoff with the customer's team; 30-day plan agreed.",
            "Set up the ERP integration and imported master data.",
            "Onboarding session: built the first workflows.",
            "Reviewed the implementation checklist; open items with customer IT.",
        ),
        "training": (
            "Reporting training for the finance team.",
            "Automation training for power users.",
            "Best-practices webinar for new users.",
        ),
        "success_review": (
            "Quarterly review: usage results and next quarter's goals.",
            "QBR with leadership; customer happy with the time saved.",
            "Success review: mapped opportunities to use automations.",
        ),
        "proactive_call": (
            "Noticed a usage drop; called to understand their current routine.",
            "Proactive call after a health score drop.",
            "Proactive call: main user left the company, new owner named.",
        ),
        "follow_up": (
            "Followed up on the NPS answer; action plan agreed.",
            "Got back on open items from the last call.",
            "Weekly check-in on the recovery plan.",
        ),
        "delinquency_call": (
            "Overdue invoice; customer says they will pay this week.",
            "Collections call; sent a new copy of the invoice.",
            "Customer asked to move the due date.",
        ),
        "rescue_call": (
            "Retention meeting after the cancellation request.",
            "Offered a temporary discount to reverse the cancellation.",
            "Rescue call with the decision maker; presented an adoption plan.",
        ),
        "expansion_meeting": (
            "Presented the higher plan and advanced features.",
            "Negotiated new seats for another branch.",
        ),
    },
    reasons={
        "price": ("Finds it too expensive for where the company is.", "The yearly increase hurt."),
        "switched_competitor": (
            "Moved to a cheaper competitor.",
            "Headquarters standardised on another tool.",
        ),
        "low_usage": ("The team barely uses the system.", "Couldn't get users engaged."),
        "missing_feature": ("Needs built-in tax invoicing.", "Missing a full mobile app."),
        "bad_support": ("Complained about slow support.", "Tickets left unsolved."),
        "business_closed": ("The company shut down.", "The company was sold."),
        "budget_cut": ("Company-wide cost cutting.", "IT budget frozen."),
        "payment_failure": ("Invoices open for over 60 days.", "Card declined repeatedly."),
        "no_value": ("Says they saw no results.",),
        "other": ("Customer gave no details.",),
        "unknown": (),
    },
)

LANGUAGES: dict[str, Texts] = {"pt_BR": PT_BR, "en": EN}
